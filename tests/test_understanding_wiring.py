"""The NLU wired into the dialog: FAQ answers for consultations, asking back when unsure."""

from __future__ import annotations

from bot import texts
from bot.demo_data import demo_faq
from storage import faq


async def _seed_faq(db) -> None:
    async with db.sessions.begin() as session:
        await faq.add_missing(session, 1, demo_faq())


async def test_a_consultation_is_answered_from_the_faq(wechat, db):
    await _seed_faq(db)
    reply = await wechat.resident("o_ask").say("居住证怎么办理")
    entry = next(e for e in demo_faq() if "居住证" in e["question"])
    assert reply == texts.FAQ_ANSWER.format(answer=entry["answer"])


async def test_a_consultation_without_a_good_answer_offers_a_person(wechat, db):
    await _seed_faq(db)
    assert await wechat.resident("o_ask2").say("社区能办理护照加急吗") == texts.FAQ_NO_MATCH


async def test_an_empty_faq_says_so_and_offers_a_person(wechat):
    assert await wechat.resident("o_ask3").say("老年证怎么办理") == texts.FAQ_NO_MATCH


async def test_faq_edits_are_picked_up_without_a_restart(wechat, db):
    assert await wechat.resident("o_ask4").say("老年证怎么办理") == texts.FAQ_NO_MATCH
    await _seed_faq(db)
    assert "老年" in await wechat.resident("o_ask4").say("老年证怎么办理")


AMBIGUOUS = "老人"  # the shipped model is unsure: elderly care could be a question, a person, volunteering


def _offered(nlu_engine, sentence: str) -> list[str]:
    understood = nlu_engine.understand(sentence)
    assert not understood.confident
    return [i for i, _ in understood.alternatives if i not in ("other", "greeting")][:3]


async def test_unsure_intent_asks_back_with_numbered_choices_and_a_digit_picks_one(wechat, nlu_engine):
    options = _offered(nlu_engine, AMBIGUOUS)
    chat = wechat.resident("o_unsure")
    question = await chat.say(AMBIGUOUS)
    listed = "\n".join(f"{n}. {texts.INTENT_LABELS[i]}" for n, i in enumerate(options, 1))
    assert question == texts.CLARIFY.format(options=listed)
    assert "handoff" in options
    assert await chat.say(str(options.index("handoff") + 1)) == texts.HANDOFF_STARTED


async def test_a_new_sentence_after_asking_back_is_understood_afresh(wechat, nlu_engine):
    chat = wechat.resident("o_unsure2")
    await chat.say(AMBIGUOUS)
    assert await chat.say("你好") == texts.GREETING
    assert await chat.say("1") != texts.HANDOFF_STARTED  # the question is no longer open


async def test_other_gets_a_polite_redirect(wechat, nlu_engine):
    assert nlu_engine.understand("明天星期几").intent == "other"
    assert await wechat.resident("o_other").say("明天星期几") == texts.OTHER
