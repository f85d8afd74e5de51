"""Only lists the fixture plugins; the fixtures live in tests/fixtures/."""

pytest_plugins = ["tests.fixtures.pg", "tests.fixtures.project",
                  "tests.fixtures.sessions"]
