"""Passwords never appear in pgshift's output, and masking them leaves the rest readable."""

from __future__ import annotations

import pytest

from pgshift.db import redact


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
