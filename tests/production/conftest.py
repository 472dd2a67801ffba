"""Fixtures of the production tests: real `linli` processes (tests/production/processes.py)."""

from tests.production.processes import processes  # noqa: F401  (the fixture)
