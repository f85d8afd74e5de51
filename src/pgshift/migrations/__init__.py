"""Migration files on disk: discovery, parsing and the model. No database here."""
