"""``verify``'s round trip compares a column's storage and compression, a sequence's settings
and the column it is OWNED BY, and owners other than the role running pgshift: a down that
forgets to undo one of them is reported; a sequence's current value, which a round trip moves
on, is not."""

from __future__ import annotations

import pytest

from pgshift import api


@pytest.fixture
def owner_role(query):
    """A role to give objects to; roles are the server's, so its name carries the database's."""
    name = f"verify_owner_{query('SELECT current_database()')[0][0]}"
    query(f'CREATE ROLE "{name}"')
    yield name
    query(f'DROP OWNED BY "{name}"')
    query(f'DROP ROLE "{name}"')


def test_a_down_that_forgets_storage_compression_sequence_settings_or_an_owner_is_reported(
    settings, write_migration, owner_role
) -> None:
    write_migration("V1__t.sql", "CREATE TABLE t (id int, body text); CREATE SEQUENCE s;",
                    "DROP TABLE t; DROP SEQUENCE s;")
    api.up(settings)
    up = ("ALTER TABLE t ALTER COLUMN body SET STORAGE EXTERNAL;\n"
          "ALTER TABLE t ALTER COLUMN body SET COMPRESSION pglz;\n"
          "ALTER SEQUENCE s INCREMENT BY 5 OWNED BY t.id;\n"
          f'ALTER TABLE t OWNER TO "{owner_role}";\n'
          "SELECT nextval('s');")  # its value moves on: no difference
    write_migration("V2__settings.sql", up, "SELECT 1;")
    report = api.verify(settings)
    [finding] = [f for f in report.migrations[0].findings if f.kind == "roundtrip"]
    assert sorted(finding.detail) == [  # the role's name is plain: lower case, digits
        "column public.t.body: compression is 'pglz' after down, was the default before up",
        "column public.t.body: storage is 'EXTERNAL (its type has EXTENDED)' after down, was "
        "its type's before up",
        "sequence public.s: increment is 5 after down, was 1 before up",
        "sequence public.s: owned_by is 'public.t.id' after down, was none before up",
        f"table public.t: owner is '{owner_role}' after down, was the migrations' role "
        "before up"]

    write_migration("V2__settings.sql", up, "ALTER TABLE t OWNER TO CURRENT_USER;\n"
                    "ALTER SEQUENCE s INCREMENT BY 1 OWNED BY NONE;\n"
                    "ALTER TABLE t ALTER COLUMN body SET COMPRESSION DEFAULT;\n"
                    "ALTER TABLE t ALTER COLUMN body SET STORAGE EXTENDED;")
    assert api.verify(settings).ok
