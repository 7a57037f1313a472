"""The district roster in its SQLite store, the only package that reads or writes it: the
schema (store), the files and runs received (submissions, runs), the merge (ingest, merge),
visits, assistants, and the roster classified as of a date (cases, scorecard)."""
