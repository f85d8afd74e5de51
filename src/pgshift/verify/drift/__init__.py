"""A migration that captures schema drift (``pgshift.verify.drift.migration``), and its parts:
each other module writes the differences of a few kinds of object as up and down SQL."""
