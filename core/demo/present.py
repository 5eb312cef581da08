"""The demo's present: this morning's proposals under review, settled placements, and rare states made visible.

Chance alone may miss a state the dashboards should show (a paused search, a no-show); when it did, the most
suitable record is switched into that state, consistently with the rest of its history.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from core.demo import response
from core.demo.history import History
from core.demo.refs import Ref
from core.demo.state import PlacementState
from core.demo.vocabulary import DISCARD_REASONS, PAUSE_REASONS

# What staff have done with this morning's proposals to practices with e-mail, in order; the rest wait.
# The rarest states come first, so that even a small demo shows them (discards also happen every week).
MORNING_ROLES = ("queued:queued", "approved:draft", "queued:sending", "proposed", "queued:failed", "discarded")
RESCHEDULED_DAYS = (3, 10)
THERAPY_FINISHED_AFTER = timedelta(days=90)  # short-term therapy (up to 24 sessions) can be over by then
FINISHED_SHARE, ABORTED_SHARE = 0.25, 0.03
SESSION_TIME = time(18, 0)  # first sessions are confirmed in the evening


def review_this_morning(history: History, rng: random.Random) -> None:
    """Give this morning's proposals the states staff have put them in by ``now``."""
    now = history.now
    roles = iter(MORNING_ROLES)
    for inquiry in history.todays_proposals:
        if inquiry.practice.phone_only:
            continue  # stays a proposal: calls are planned once it is approved
        status, _, mail = next(roles, "proposed").partition(":")
        if status == "discarded":
            history.discard(inquiry, now - timedelta(minutes=15), reason=rng.choice(DISCARD_REASONS))
        elif status in {"approved", "queued"}:
            inquiry.status, inquiry.mail_status = status, mail
            inquiry.approved_at = now - timedelta(minutes=rng.randint(5, 90))
            history.journal.audit(inquiry.approved_at, "inquiry.approve", entity=Ref("inquiry", inquiry.key))


def settle_placements(history: History, rng: random.Random) -> None:
    """Decide how each placement went once its first session date has passed."""
    today = history.today
    if history.placements and all(p.first_session_on < today for p in history.placements):
        # show one accepted patient still waiting for the first session: the practice moved the date
        latest = max(history.placements, key=lambda p: (p.placed_at, p.key))
        latest.first_session_on = today + timedelta(days=rng.randint(*RESCHEDULED_DAYS))
        latest.item.proposed_first_session = latest.first_session_on
    settled = []
    for placement in history.placements:
        if placement.first_session_on >= today:
            continue  # still "accepted": the first session lies ahead
        settled.append(placement)
        if rng.random() < response.NO_SHOW:
            placement.item.outcome = "no_show"
            continue
        _confirm(placement, history.now)
        if placement.placed_at < history.now - THERAPY_FINISHED_AFTER and rng.random() < FINISHED_SHARE:
            placement.therapy_end = "finished"
        elif rng.random() < ABORTED_SHARE:
            placement.therapy_end = "aborted"
    in_sessions = [p for p in settled if p.item.outcome == "in_sessions"]
    if len(in_sessions) >= 2 and not any(p.item.outcome == "no_show" for p in settled):
        latest = max(in_sessions, key=lambda p: (p.first_session_on, p.key))
        latest.item.outcome, latest.confirmed_at, latest.therapy_end = "no_show", None, None
        in_sessions.remove(latest)
    if in_sessions and not any(p.therapy_end == "finished" for p in in_sessions):
        min(in_sessions, key=lambda p: (p.placed_at, p.key)).therapy_end = "finished"


def show_rare_search_states(history: History, rng: random.Random) -> None:
    """Make sure at least one search is paused and one cancelled, when there are searches to spare."""
    now = history.now
    active = [s for s in history.searches if s.status == "active" and s.started_at < now - timedelta(days=1)]
    if len(active) < 3:
        return
    running = [s for s in active if not s.paused]
    if not any(s.status == "active" and s.paused for s in history.searches):
        search = max(running, key=lambda s: (s.started_at, s.key))  # the newest: least history to contradict
        until = datetime.combine(history.today + timedelta(weeks=3), time(0), now.tzinfo)
        search.pause, search.paused = (now - timedelta(minutes=30), until), True
        history.journal.audit(
            now - timedelta(minutes=30),
            "search.pause",
            entity=Ref("search", search.key),
            reason=rng.choice(PAUSE_REASONS),
        )
        running.remove(search)
    if running and not any(s.status == "cancelled" for s in history.searches):
        history.cancel(min(running, key=lambda s: (s.started_at, s.key)), now - timedelta(minutes=30))


def _confirm(placement: PlacementState, now: datetime) -> None:
    placement.item.outcome = "in_sessions"
    placement.confirmed_at = datetime.combine(placement.first_session_on, SESSION_TIME, now.tzinfo)
