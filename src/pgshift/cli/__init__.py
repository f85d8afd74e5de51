"""The command-line shell over the library API: parse, call ``pgshift.api``, render."""
