"""Linli NLU: normalisation, tokenisation, intent classification and slots. Pure, synchronous.

    from nlp import load_engine
    engine = load_engine()
    u = engine.understand("3栋2单元楼道灯坏了")
"""

from nlp.engine import NluEngine, Understanding, load_engine
from nlp.intents import INTENT_NAMES, INTENTS

__all__ = ["INTENTS", "INTENT_NAMES", "NluEngine", "Understanding", "load_engine"]
