"""One engine for the whole NLU test session: loading jieba and the model takes ~1 s."""

from datetime import datetime

import pytest

from nlp import load_engine
from nlp.timephrase import SHANGHAI


@pytest.fixture(scope="session")
def engine():
    return load_engine()


@pytest.fixture
def now():
    """Monday 2026-11-23 10:00 in Shanghai: every time phrase is resolved against this."""
    return datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
