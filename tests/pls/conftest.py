"""pytest fixtures of the PLS tests (the data live in pls_fixtures.py)."""

from pls_fixtures import corp_rep, mobi  # noqa: F401  (re-exported as pytest fixtures)
