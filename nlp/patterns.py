"""One search standing for several: does any of these patterns occur anywhere in the text?

The NLU runs on every message, and most of its steps find nothing to do in most messages (no
time words, no address numbers, no category words). Asking first with one search over all of a
step's patterns — and doing the step only when it says yes — gives the same result, since a step
whose patterns all fail changes nothing, at the cost of one search instead of a dozen.
"""

from __future__ import annotations

import re
from typing import Iterable


def any_of(patterns: Iterable[re.Pattern]) -> re.Pattern:
    """The patterns as one alternation (for searching only: their groups are renumbered)."""
    return re.compile("|".join(f"(?:{pattern.pattern})" for pattern in patterns))
