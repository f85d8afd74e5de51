"""Batched backfills: ``run_backfill`` walks a table in short transactions (see batched.py)."""
