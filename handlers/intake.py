"""Reporting a problem: the intake dialog for repairs, complaints and suggestions.

The form itself (what to ask next, how to read an answer) is pure and lives in
handlers/intake_form.py; this module moves it along message by message, keeps the draft in the
dialog, and files the ticket through storage.tickets.

Two routers, because they need different priorities (handlers/__init__.py):
- ``steps`` answers messages while a form is open — including photos and locations, so it comes
  before the media handlers, and short answers ("是", "跳过") the NLU is unsure about, so it comes
  before asking back;
- ``router`` starts a form from the ticket intents.
"""

from __future__ import annotations

from datetime import timedelta

from bot.dispatcher.context import Context
from bot.dispatcher.router import Router
from bot.replies import Reply, Text
from bot.texts import tickets as t
from handlers import intake_form as form
from handlers import ticket_status
from handlers.intake_form import Draft
from nlp import rules
from nlp.intents import TICKET_INTENTS
from storage import tickets
from storage.tickets import places

router = Router("intake")
steps = Router("intake_steps")

STATE = "intake:"  # "intake:<kind>:<step>"; bot/intake_jobs.py finds expired forms by this prefix
FOLLOWUP_STATE = "ticket:followup"  # after a red-grade report: photos and places still attach
# Commands answered by their own handlers even in the middle of a form (the form stays open);
# a bare "我要投诉" starts a new form.
ESCAPES = frozenset({"ticket_status", "points_query", "volunteer_signup", "consult"}) | TICKET_INTENTS


def state_of(kind: str, step: str) -> str:
    return f"{STATE}{kind}:{step}"


def parse_state(state: str | None) -> tuple[str, str] | None:
    """"intake:repair:photo" → ("repair", "photo")."""
    if not state or not state.startswith(STATE):
        return None
    kind, _, step = state[len(STATE):].partition(":")
    return (kind, step) if kind in TICKET_INTENTS and step else None


# ---- filters ----------------------------------------------------------------------------------


def _said_something(ctx: Context) -> bool:
    return ctx.event.kind in ("text", "voice") and bool(ctx.text)


def _normalized(ctx: Context) -> str:
    """What word lists and patterns read (simplified, half-width); ctx.text is what is kept."""
    return (ctx.nlu.normalized if ctx.nlu is not None and ctx.nlu.normalized else None) or ctx.text


def _command(ctx: Context) -> str | None:
    """The intent of a whole-message command ("我的工单", "我要投诉"), if the message is one."""
    hit = rules.match(ctx.nlu.normalized) if ctx.nlu is not None and ctx.nlu.normalized else None
    return hit.intent if hit is not None else None


def _in_form(ctx: Context) -> bool:
    if ctx.dialog is None or parse_state(ctx.dialog.state) is None:
        return False
    if ctx.event.kind in ("image", "location"):
        return True
    return _said_something(ctx) and _command(ctx) not in ESCAPES


def _in_followup(ctx: Context) -> bool:
    return ctx.dialog is not None and ctx.dialog.state == FOLLOWUP_STATE


def _form_expired(ctx: Context) -> bool:
    """The resident answers a form that timed out; a new report or a command is not an answer."""
    if ctx.dialog is None or ctx.dialog.state or parse_state(ctx.dialog.expired_state) is None:
        return False
    if not _said_something(ctx) or _command(ctx) in ESCAPES or ctx.intent == "handoff":
        return False
    return not (ctx.intent in TICKET_INTENTS and form.describes_problem(_normalized(ctx)))


# ---- starting a form ----------------------------------------------------------------------------


@router.on(intent=TICKET_INTENTS)
async def start(ctx: Context) -> Reply:
    """Take everything the first sentence (and media sent just before) says; ask for the rest."""
    draft = _draft_from_first_message(ctx)
    await _attach_recent_media(ctx, draft)
    if draft.needs_location and not draft.has_location:
        await _prefill_location(ctx, draft)
    expired = parse_state(ctx.dialog.expired_state)
    prefix = t.RESTARTED_AFTER_EXPIRY.format(kind=t.KIND_WORDS[expired[0]]) if expired else ""
    if draft.description and form.next_step(draft) != "confirm":  # the summary reads it all back anyway
        prefix += t.NOTED.format(kind=t.KIND_WORDS[draft.kind], what=form.shorten(draft.description, 24))
    return await _advance(ctx, draft, prefix)


def _draft_from_first_message(ctx: Context) -> Draft:
    kind = ctx.intent
    slots = ctx.nlu.slots
    spoken = ctx.event.kind in ("text", "voice")
    draft = Draft(kind=kind, description=form.description_of(ctx.text, _normalized(ctx)) if spoken else None)
    if slots.get("grade") in ("red", "yellow"):
        draft.grade = slots["grade"]
    if draft.needs_category:
        draft.category = slots.get(f"{kind}_category")
    said = {k: slots[k] for k in form.ADDRESS_KEYS if k in slots}
    if draft.needs_location and said:
        form.set_location(draft, said)
    elif draft.needs_location and spoken and (spot := form.public_place(_normalized(ctx))):
        form.set_place(draft, spot)
    if slots.get("phone"):
        draft.phone, draft.phone_consent = slots["phone"], True
    return draft


async def _attach_recent_media(ctx: Context, draft: Draft) -> None:
    """Photos and a location sent just before the report belong to it — unless an earlier
    ticket already has them."""
    since = ctx.now - timedelta(minutes=ctx.settings.dialog.conversation_ttl_minutes)
    sent = ctx.resident.last_media_at
    if not draft.needs_location or sent is None or sent < since:
        return  # the usual case: nothing to read
    session = await ctx.db()
    media = await places.recent_media(session, community_id=ctx.community_id, openid=ctx.event.openid, since=since)
    if not media:
        return  # the usual case: no need to read the earlier tickets either
    earlier = await tickets.recent_tickets_for(session, community_id=ctx.community_id, resident_id=ctx.resident.id,
                                               since=since)
    used = {(a.media_id, a.latitude, a.longitude) for ticket in earlier for a in ticket.attachments}
    for row in media:
        if (row.media_id, row.latitude, row.longitude) in used:
            continue
        if row.msg_type == "image":
            draft.photos.append({"media_id": row.media_id, "url": row.media_url})
        elif not draft.has_location or draft.latitude is not None:
            form.set_place(draft, row.label or "", row.latitude, row.longitude)


async def _prefill_location(ctx: Context, draft: Draft) -> None:
    """The registered home, else the building whose QR code the resident scanned — to confirm."""
    resident = ctx.resident
    name = await places.building_name(await ctx.db(), resident.building_id)
    if name:
        draft.building, draft.building_id, draft.unit, draft.room = name, resident.building_id, resident.unit, resident.room
    elif scanned := form.scene_building(resident.qr_scene):
        draft.building = scanned
    draft.location_confirmed = False


# ---- moving the form along ----------------------------------------------------------------------


async def _advance(ctx: Context, draft: Draft, prefix: str = "", corrected: str | None = None) -> Reply:
    """Check the building, then file at once (red) or ask the next missing thing.

    ``corrected``: the value a correction set, read back only once the building it names is
    known to exist ("已改为：15栋" and then "没有找到15栋" would contradict each other).
    """
    if draft.building and draft.building_id is None and draft.building != draft.checked_building:
        known = await places.buildings(await ctx.db(), ctx.community_id)
        if form.resolve_building(draft, known):
            draft.checked_building = draft.building  # a community without a list: not looked up again
        else:
            prefix += t.UNKNOWN_BUILDING.format(building=draft.building, examples="、".join(list(known)[:4]))
            form.clear_location(draft)
            corrected = None
    if corrected:
        prefix += t.CORRECTED.format(value=form.shown(corrected))
    if draft.grade == "red" and draft.description:
        return await _file_red(ctx, draft)
    step = form.next_step(draft)
    _save(ctx, draft, step)
    return Text(prefix + form.question(step, draft, ctx.resident.phone, continued=bool(prefix)))


def _save(ctx: Context, draft: Draft, step: str) -> None:
    ctx.dialog.goto(state_of(draft.kind, step), draft=draft.to_dict(), account=ctx.event.account)


def _draft(ctx: Context) -> Draft:
    return Draft.from_dict(ctx.dialog.data["draft"])


@steps.on(_in_form, kind="image")
async def photo(ctx: Context) -> Reply:
    draft = _draft(ctx)
    draft.photos.append({"media_id": ctx.event.media_id, "url": ctx.event.media_url})
    return await _advance(ctx, draft, t.PHOTO_RECEIVED)


@steps.on(_in_form, kind="location")
async def location(ctx: Context) -> Reply:
    draft = _draft(ctx)
    place = ctx.event.location
    label = (place.label if place else None) or ""
    form.set_place(draft, label, place.latitude if place else None, place.longitude if place else None)
    return await _advance(ctx, draft, t.LOCATION_NOTED.format(value=form.location_text(draft)))


@steps.on(_in_form)
async def reply_to_step(ctx: Context) -> Reply:
    draft = _draft(ctx)
    _, step = parse_state(ctx.dialog.state)
    text = _normalized(ctx)
    if form.is_cancel(text, step):
        ctx.dialog.finish()
        return Text(t.CANCELLED.format(kind=t.KIND_WORDS[draft.kind]))
    if form.add_danger(draft, text, ctx.text):  # at any step: danger now does not wait for the photo
        return await _file_red(ctx, draft)
    if step == "duplicate":
        return await _duplicate_answer(ctx, draft, text)
    if step == "confirm" and form.is_submit(text):
        return await _submit(ctx, draft)
    if step == "confirm" and (form.is_edit(text) or form.is_no(text)):
        _save(ctx, draft, "edit")
        return Text(form.question("edit", draft))
    if step == "edit" and (field := form.parse_edit_field(draft, text)):
        form.clear_field(draft, field)
        return await _advance(ctx, draft)
    fix = form.correction(text, ctx.text)
    if fix and (value := form.apply_correction(draft, fix, step)):
        return await _advance(ctx, draft, corrected=value)
    if form.answer(draft, step, text, ctx.text, ctx.resident.phone):
        return await _advance(ctx, draft)
    return await _not_an_answer(ctx, draft, step, text)


async def _not_an_answer(ctx: Context, draft: Draft, step: str, text: str) -> Reply:
    """A message that does not answer the question: a question about a ticket is answered (the
    form stays open), another problem waits until this one is done, else the question again."""
    again = form.question(step, draft, ctx.resident.phone)
    if ctx.intent == "ticket_status" and ctx.nlu.confident:
        status = await ticket_status.question(ctx)
        return Text(t.FORM_STILL_OPEN.format(answer=status.content, kind=t.KIND_WORDS[draft.kind], question=again))
    if step != "description" and ctx.intent in TICKET_INTENTS and form.describes_problem(text):
        return Text(t.ANOTHER_PROBLEM.format(kind=t.KIND_WORDS[draft.kind]) + again)
    return Text(_unclear(step, draft, ctx))


def _unclear(step: str, draft: Draft, ctx: Context) -> str:
    """What to say when an answer does not fit: the hint, then the question again."""
    if step == "photo" and form.is_yes(_normalized(ctx)):
        return t.PHOTO_GO_AHEAD  # "是" to "可以发一张照片": tell them how
    hints = {"description": t.DESCRIPTION_TOO_SHORT, "location": t.LOCATION_UNCLEAR,
             "location_confirm": t.LOCATION_CONFIRM_UNCLEAR.format(place=form.location_text(draft)),
             "category": t.CATEGORY_UNCLEAR + "\n" + form.question("category", draft),
             "phone": t.PHONE_UNCLEAR, "confirm": t.CONFIRM_UNCLEAR,
             "duplicate": t.DUPLICATE_UNCLEAR}
    return hints.get(step) or form.question(step, draft, ctx.resident.phone)


# ---- filing -------------------------------------------------------------------------------------


def attachments_of(draft: Draft) -> list[tickets.AttachmentDraft]:
    attachments = [tickets.AttachmentDraft(kind="image", media_id=p.get("media_id"), url=p.get("url"))
                   for p in draft.photos]
    if draft.latitude is not None:
        attachments.append(tickets.AttachmentDraft(kind="location", latitude=draft.latitude,
                                                   longitude=draft.longitude, label=draft.place))
    return attachments


def ticket_draft(draft: Draft, source_key: str) -> tickets.TicketDraft:
    return tickets.TicketDraft(
        kind=draft.kind, category=draft.category, description=draft.description or "", grade=draft.grade,
        building_id=draft.building_id, unit=None if draft.unit is None else str(draft.unit), room=draft.room,
        address=form.location_text(draft) or None, outdoor=draft.has_location and not draft.building,
        phone=draft.phone, phone_consent=draft.phone_consent, attachments=attachments_of(draft),
        source_key=source_key)


async def _submit(ctx: Context, draft: Draft) -> Reply:
    """Offer to join a matching open ticket nearby before filing a second one."""
    if not draft.duplicate_declined:
        session = await ctx.db()
        existing = await tickets.find_duplicate(session, community_id=ctx.community_id,
                                                draft=ticket_draft(draft, ctx.event.dedup_key), now=ctx.now,
                                                settings=ctx.settings)
        if existing is not None and existing.source_key == ctx.event.dedup_key:
            return _filed(ctx, existing)  # this very message filed it before (a redelivery)
        if existing is not None:  # someone else's report: its building and category only, never their words
            ctx.dialog.goto(state_of(draft.kind, "duplicate"), draft=draft.to_dict(), duplicate=existing.number)
            return Text(t.DUPLICATE_FOUND.format(number=existing.number,
                                                 label=await ticket_status.shared_label(session, existing)))
    return await _file(ctx, draft)


async def _duplicate_answer(ctx: Context, draft: Draft, text: str) -> Reply:
    choice = form.number_choice(text, 2) or (1 if "关注" in text or "加入" in text else
                                             2 if "单独" in text or "提交" in text else None)
    if choice == 2:
        draft.duplicate_declined = True
        return await _file(ctx, draft)
    if choice != 1:
        return Text(t.DUPLICATE_UNCLEAR)
    number = ctx.dialog.data.get("duplicate")
    session = await ctx.db()
    existing = await tickets.ticket_by_number(session, community_id=ctx.community_id, number=number)
    if existing is None:  # gone meanwhile (it cannot be deleted today, but never lose the report)
        return await _file(ctx, draft)
    joined = await tickets.join_ticket(session, ticket=existing, resident=ctx.resident, now=ctx.now)
    for attachment in attachments_of(draft):  # the joiner's photos still help
        await tickets.attach(session, ticket_id=existing.id, attachment=attachment, actor=_actor(ctx), now=ctx.now)
    ctx.dialog.finish()
    return Text((t.JOINED if joined else t.ALREADY_JOINED).format(number=number))


def _actor(ctx: Context) -> tickets.Actor:
    return tickets.Actor(kind="resident", id=ctx.resident.id, name=ctx.resident.name)


async def _create(ctx: Context, draft: Draft):
    """The message that files is the ticket's source: a redelivery of it files nothing new."""
    return await tickets.create_ticket(await ctx.db(), community_id=ctx.community_id, reporter=ctx.resident,
                                       draft=ticket_draft(draft, ctx.event.dedup_key), now=ctx.now,
                                       settings=ctx.settings)


async def _file(ctx: Context, draft: Draft) -> Reply:
    return _filed(ctx, await _create(ctx, draft))


def _filed(ctx: Context, ticket) -> Reply:
    ctx.dialog.finish()
    return Text(t.FILED.format(number=ticket.number, expected=tickets.expected_date_text(ticket)))


async def _file_red(ctx: Context, draft: Draft) -> Reply:
    """Danger now: file with what is known (the alert goes out on creation), advise, and let
    photos and places sent afterwards join the ticket. A neighbour's red report of the same
    building and category a little earlier is the same emergency: join it — staff are alerted
    once, and the second reporter's words go on its log."""
    session = await ctx.db()
    filed = ticket_draft(draft, ctx.event.dedup_key)
    first = await tickets.red_duplicate(session, community_id=ctx.community_id, draft=filed, now=ctx.now,
                                        settings=ctx.settings)
    if first is not None and first.source_key != ctx.event.dedup_key:
        await tickets.join_ticket(session, ticket=first, resident=ctx.resident, now=ctx.now, note=filed.description)
        for attachment in filed.attachments:
            await tickets.attach(session, ticket_id=first.id, attachment=attachment, actor=_actor(ctx), now=ctx.now)
        ticket, reply = first, t.RED_JOINED
    else:
        ticket, reply = await _create(ctx, draft), t.FILED_RED
    ctx.dialog.finish()
    ctx.dialog.goto(FOLLOWUP_STATE, ticket_id=ticket.id, number=ticket.number)
    return Text(reply.format(number=ticket.number, advice=_advice(draft), expected=tickets.expected_date_text(ticket)))


def _advice(draft: Draft) -> str:
    """Advice for the danger, which is in the words the resident added last (a danger said
    mid-form follows the first description); failing those, in all of them."""
    words = draft.description or ""
    advice = form.safety_advice(words.split(t.DESCRIPTION_JOINER)[-1], draft.category)
    return advice if advice != t.SAFETY_ADVICE["general"] else form.safety_advice(words, draft.category)


@steps.on(_in_followup, kind=("image", "location"))
async def followup(ctx: Context) -> Reply:
    data = ctx.dialog.data
    event = ctx.event
    if event.kind == "image":
        attachment = tickets.AttachmentDraft(kind="image", media_id=event.media_id, url=event.media_url)
    else:
        place = event.location
        attachment = tickets.AttachmentDraft(kind="location", latitude=place.latitude if place else None,
                                             longitude=place.longitude if place else None,
                                             label=place.label if place else None)
    await tickets.attach(await ctx.db(), ticket_id=data["ticket_id"], attachment=attachment, actor=_actor(ctx),
                         now=ctx.now)
    ctx.dialog.goto(FOLLOWUP_STATE)  # more may follow
    return Text(t.FOLLOWUP_ATTACHED.format(number=data["number"]))


@steps.on(_form_expired)
async def expired(ctx: Context) -> Reply:
    kind, _ = parse_state(ctx.dialog.expired_state)
    return Text(t.EXPIRED.format(kind=t.KIND_WORDS[kind], minutes=ctx.settings.dialog.conversation_ttl_minutes))

