"""What pgshift keeps in the database: the history table and the runner's advisory lock."""
