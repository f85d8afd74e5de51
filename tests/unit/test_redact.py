"""Passwords never appear in pgshift's output, and masking them leaves the rest readable."""

from __future__ import annotations

import pytest

from pgshift.redaction import describe, redact


@pytest.mark.parametrize(("text", "url", "expected"), [
    ("cannot connect to postgresql://bob:s3cretPW@db.example/app",
     None, "cannot connect to postgresql://bob:***@db.example/app"),
    ("host=db password=s3cretPW user=bob", None, "host=db password=*** user=bob"),
    ("ALTER ROLE ops PASSWORD 'hunter22' VALID UNTIL 'infinity'", None,
     "ALTER ROLE ops PASSWORD '***' VALID UNTIL 'infinity'"),
    ("ALTER ROLE ops PASSWORD 'hunt", None, "ALTER ROLE ops PASSWORD '***'"),
    ("migrations directory not found (hint: create it)", "postgresql://u:e@h/db",
     "migrations directory not found (hint: create it)"),
    ("bad value e for x", "postgresql://u:e@h/db", "bad value *** for x"),
    ('role "mon_x" does not exist', "postgresql://mon_x@h/db", 'role "mon_x" does not exist'),
    ("it was sEcReT-1234 here", "postgresql://u:sEcReT-1234@h/db", "it was *** here"),
])
def test_redact_masks_passwords_and_only_passwords(text: str, url: str | None,
                                                   expected: str) -> None:
    assert redact(text, url) == expected


def test_a_malformed_urls_password_is_still_found() -> None:
    assert "s3cretPW" not in redact("postgres//bob:s3cretPW@host/db: invalid",
                                    "postgres//bob:s3cretPW@host/db")


# -- passwords libpq cut into pieces ---------------------------------------------------------


@pytest.mark.parametrize(("url", "message", "secret"), [
    # What libpq says of URLs whose password holds an unencoded @ : / ? # or blank.
    ("postgresql://u:p@ss:w/rd?x#y%z&é@db:1/app",
     'invalid dsn: missing key/value separator "=" in URI query parameter: "x#y%z"', "x#y%z"),
    ('postgresql://u:(yMK":/Y"e9FZ1@db:1/app',
     'invalid integer value "(yMK":" for connection option "port"', "yMK"),
    ("postgresql://u:L).rj/V;N3/)T%@db:1/app",
     'invalid dsn: invalid percent-encoded token: "V;N3/)T%@db:1/app"', "V;N3"),
    ("postgresql://u:&@&Eifkrvv&BIQ/@db:1/app",
     'could not translate host name "&Eifkrvv&BIQ" to address', "Eifkrvv"),
    ("postgresql:/u:Y^vv/Dbz=+DZ?S;@db:1/app",
     'invalid dsn: invalid connection option "postgresql:/u:Y^vv/Dbz"', "Y^vv"),
    ("postgresql://u:qZnVi.=U= /!@db:1/app",
     'invalid integer value "qZnVi.=U= " for connection option "port"', "qZnVi"),
    ("host=db port=1 user=u password=my pass word",
     'invalid dsn: missing "=" after "pass" in connection info string', "pass"),
    ("host=db user=u password='[FHAwKs=zIN'G!5v'",
     "invalid dsn: missing \"=\" after \"G!5v'\" in connection info string", "G!5v"),
    ("postgresql://u@db:1/app?password=q{@Bp3&0p*LJ",
     'invalid dsn: missing key/value separator "=" in URI query parameter: "0p*LJ"', "0p*LJ"),
])
def test_pieces_of_a_password_libpq_quotes_are_masked(url: str, message: str,
                                                      secret: str) -> None:
    masked = redact(f"cannot connect: {message}", url)
    assert secret not in masked and '"***"' in masked, masked


def test_option_names_and_values_outside_the_password_stay_readable() -> None:
    url = "postgresql://u:s3cretPW@db:1/app?sslmode=bogus"
    assert redact('invalid sslmode value: "bogus"', url) == 'invalid sslmode value: "bogus"'
    assert redact('database "app" does not exist', url) == 'database "app" does not exist'
    assert redact('invalid integer value "x" for connection option "port"', url) == (
        'invalid integer value "x" for connection option "port"')


@pytest.mark.parametrize("password", ["a.*b+(c)[d]$^\\|", "(?i)x", "\\d+\\s*"])
def test_a_password_of_regex_metacharacters_is_masked_literally(password: str) -> None:
    text = f"it was {password} and a.b(c) stays"
    assert redact(text, f"password='{password}'") == "it was *** and a.b(c) stays"


def test_a_password_is_masked_percent_encoded_and_decoded() -> None:
    url = "postgresql://u:p%40ss%2Fw%C3%B6rd@db/app"
    for form in ("p%40ss%2Fw%C3%B6rd", "p@ss/wörd", "p%40ss%2Fw%C3%B6rd".lower()):
        assert redact(f"x {form} y", url) == "x *** y", form
    assert redact("x p@ss/wörd y", "host=db password='p@ss/wörd'") == "x *** y"


def test_a_short_password_is_masked_where_it_stands_alone() -> None:
    url = "postgresql://u:Zz9@db/app"
    assert redact("bad Zz9 here, Zz9x and aZz9 stay", url) == "bad *** here, Zz9x and aZz9 stay"


def test_a_keyword_password_with_escaped_quotes_is_masked_as_libpq_reads_it() -> None:
    dsn = r"host=db password='it\'s a \'pw\'' dbname=app"
    assert "it's a 'pw'" not in redact("said: it's a 'pw'", dsn)


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresql://u:pw@[::1]:5432/app", "[::1]:5432/app"),
    ("postgresql://u:pw@[fe80::1%25lo]:5/app", "[fe80::1%lo]:5/app"),
    ("postgresql://u:pw@h1:1,h2:2/app", "h1:1,h2:2/app"),
    ("postgresql://u:pw@/app?host=/run/pg&port=5", "app via socket /run/pg"),
    ("host=/run/pg port=5 user=u password=pw dbname=app", "app via socket /run/pg"),
    ("host=db port=5 user=u password=pw dbname=app", "db:5/app"),
    ("service=prod", "service prod"),
    ("postgresql:///app?service=prod", "service prod/app"),
    ("postgresql://u@db/app?application_name=me@laptop", "db/app"),
    ("postgresql://u:p@ss@db:5/app", "db:5/app"),
    ("postgresql://u:x/y@z@db:5/app", "db:5/app"),
    ("postgresql://u:T@1pA;X@db:5/app", "db:5/app"),
    ("postgresql://u@db:5/app?password=T@1pA;XAKndp,b", "db:5/app"),
])
def test_describe_names_hosts_ports_and_database_never_the_password(url: str,
                                                                   expected: str) -> None:
    assert describe(url) == expected
