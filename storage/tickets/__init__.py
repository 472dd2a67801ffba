"""The ticket (工单) domain: the API the chat side, the jobs and (later) the console use.

    ticket = await create_ticket(session, community_id=…, reporter=resident, draft=TicketDraft(…),
                                 now=now, settings=settings)
    await transition(session, ticket_id=ticket.id, to="resolved", actor=Actor("staff", name="王芳"),
                     now=now, settings=settings, note="已更换灯泡")

Nothing here commits; the caller's transaction does. Modules: drafts (inputs, errors), lifecycle
(the transition table), numbering, sla (deadlines, working days), routing, notify, service
(changes), queries (reads), rates (三率).
"""

from bot.texts.notices import GRADE_NAMES, KIND_NAMES, STATUS_NAMES
from storage.ticket_models import Ticket, TicketAttachment, TicketEvent, TicketReporter
from storage.tickets.drafts import (SYSTEM, Actor, AttachmentDraft, Conflict, IllegalTransition, TicketDraft,
                                    TicketError)
from storage.tickets.lifecycle import ACTIVE, TRANSITIONS
from storage.tickets.queries import (awaiting_rating, find_duplicate, open_tickets_for, recent_tickets_for,
                                     red_duplicate, ticket_by_number)
from storage.tickets.routing import link_grid_worker, link_member_household
from storage.tickets.service import add_note, assign, attach, create_ticket, join_ticket, rate, transition
from storage.tickets.sla import expected_date_text

__all__ = [
    "ACTIVE", "GRADE_NAMES", "KIND_NAMES", "STATUS_NAMES", "SYSTEM", "TRANSITIONS", "Actor", "AttachmentDraft",
    "Conflict", "IllegalTransition", "Ticket", "TicketAttachment", "TicketDraft", "TicketError", "TicketEvent",
    "TicketReporter", "add_note", "assign", "attach", "awaiting_rating", "create_ticket", "expected_date_text",
    "find_duplicate", "join_ticket", "link_grid_worker", "link_member_household", "open_tickets_for", "rate",
    "recent_tickets_for", "red_duplicate", "ticket_by_number", "transition",
]
