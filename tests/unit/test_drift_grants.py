"""GRANT and REVOKE from two ACLs as the catalog shows them: only the privileges that differ,
the owner's own item left out, PUBLIC as the empty grantee, ``*`` as the grant option."""

from __future__ import annotations

import pytest

from pgshift.verify.drift.grants import AclError, grant_statements


def test_only_the_privileges_that_differ_are_granted_or_revoked() -> None:
    old = ["owner=arwdDxt/owner", "app=r/owner"]
    new = ["owner=arwdDxt/owner", "app=ra/owner", "=r/owner"]
    assert grant_statements("TABLE", "public.t", old, new) == [
        "GRANT SELECT ON TABLE public.t TO PUBLIC;", "GRANT INSERT ON TABLE public.t TO app;"]
    assert grant_statements("TABLE", "public.t", new, old) == [
        "REVOKE SELECT ON TABLE public.t FROM PUBLIC;", "REVOKE INSERT ON TABLE public.t FROM app;"]


def test_a_default_acl_and_one_naming_only_its_owner_are_alike_whoever_owns_it() -> None:
    assert grant_statements("TABLE", "public.t", [], ["owner=arwdDxtm/owner"]) == []
    assert grant_statements("TABLE", "public.t", ["a=arwdDxt/a", "app=r/a"],
                            ["b=arwdDxt/b", "app=r/b"]) == []


def test_public_executes_a_function_by_default_until_it_is_revoked() -> None:
    assert grant_statements("FUNCTION", "public.f()", [], ["owner=X/owner", "app=X/owner"]) == [
        "REVOKE EXECUTE ON FUNCTION public.f() FROM PUBLIC;",
        "GRANT EXECUTE ON FUNCTION public.f() TO app;"]


def test_the_grant_option_is_granted_and_revoked_apart_from_the_privilege() -> None:
    old = ["owner=UC/owner", "app=U/owner"]
    new = ["owner=UC/owner", "app=U*C/owner"]
    assert grant_statements("SCHEMA", "s", old, new) == [
        "GRANT CREATE ON SCHEMA s TO app;", "GRANT USAGE ON SCHEMA s TO app WITH GRANT OPTION;"]
    assert grant_statements("SCHEMA", "s", new, old) == [
        "REVOKE CREATE ON SCHEMA s FROM app;",
        "REVOKE GRANT OPTION FOR USAGE ON SCHEMA s FROM app;"]


def test_quoted_roles_and_columns_are_written_as_sql_names() -> None:
    new = ['"Read ""Only"""=rw/owner', "Ops=r/owner"]
    assert grant_statements("TABLE", "public.t", [], new, column="note") == [
        "GRANT SELECT (note) ON TABLE public.t TO \"Ops\";",
        'GRANT SELECT (note), UPDATE (note) ON TABLE public.t TO "Read ""Only""";']


@pytest.mark.parametrize("acl, reason", [
    (["owner=r/owner", "app=r/owner"], "its owner owner has lost some of its own privileges"),
    (["owner=arwdDxt/owner", "lead=r*/owner", "app=r/lead"], "granted by more than one role"),
])
def test_what_cannot_be_written_so_is_an_error_saying_why(acl: list[str], reason: str) -> None:
    with pytest.raises(AclError, match=reason):
        grant_statements("TABLE", "public.t", [], acl)
