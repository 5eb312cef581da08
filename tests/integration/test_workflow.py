"""Patient paths and the search board on real PostgreSQL, from real consents, inquiries, answers, placements."""

from datetime import UTC, date, datetime

from core.matching import service as matching
from core.operations import workflow
from core.patients import service as patients
from core.patients.models import SearchStatus
from tests.support.matching import STAFF, searching_patient, sent, therapist

TODAY = date(2026, 12, 14)
SENT_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANSWERED_AT = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def test_patient_path__follows_the_patient_to_the_answer(session):
    search = searching_patient(session, started_on=date(2026, 11, 20))
    for kind in ("health_data", "share_profile"):
        patients.record_consent(session, patient_id=search.patient_id, kind=kind, text_version="2026-01",
                                actor=STAFF, now=datetime(2026, 11, 19, 10, 0, tzinfo=UTC))  # fmt: skip
    inquiry = sent(session, therapist(session), [search], now=SENT_AT)
    matching.record_answer(session, item_id=inquiry.items[0].id, outcome="declined_capacity", actor=STAFF,
                           now=ANSWERED_AT)  # fmt: skip

    steps = {s.name: s for s in workflow.patient_path(session, patient_id=search.patient_id, today=TODAY)}

    assert workflow.current_step(list(steps.values())) == "answers"
    assert (steps["search"].reached_on, steps["search"].days) == (date(2026, 11, 20), 11)
    assert (steps["inquiries"].reached_on, steps["inquiries"].days) == (date(2026, 12, 1), 7)
    assert (steps["answers"].reached_on, steps["answers"].days) == (date(2026, 12, 8), 6)
    assert steps["placement"].reached_on is None


def test_board__groups_searches_by_step_and_filters(session):
    waiting = searching_patient(session, "Warten", started_on=date(2026, 10, 1))
    asked = searching_patient(session, "Gefragt", started_on=date(2026, 12, 10), postcode="20095")
    placed = searching_patient(session, "Platz", started_on=date(2026, 11, 1))
    sent(session, therapist(session, "Kraus"), [asked], now=SENT_AT)
    accepted = sent(session, therapist(session, "Lorenz"), [placed], now=SENT_AT)
    matching.record_answer(session, item_id=accepted.items[0].id, outcome="accepted", actor=STAFF, now=ANSWERED_AT)
    paused = searching_patient(session, "Pause", started_on=date(2026, 12, 1))
    paused.status, paused.paused_until = SearchStatus.PAUSED, date(2027, 1, 10)

    def refs(columns):
        return {step: [c["reference"] for c in cards] for step, cards in columns.items() if cards}

    def ref(search):
        return search.patient.reference

    everything = workflow.board(session, today=TODAY, statuses=tuple(SearchStatus))
    assert refs(everything) == {
        "search": [ref(waiting), ref(paused)],  # longest in the step first
        "inquiries": [ref(asked)],
        "placement": [ref(placed)],
    }
    assert refs(workflow.board(session, today=TODAY)) == {"search": [ref(waiting), ref(paused)],
                                                          "inquiries": [ref(asked)]}  # fmt: skip
    assert refs(workflow.board(session, today=TODAY, region="20")) == {"inquiries": [ref(asked)]}
    assert refs(workflow.board(session, today=TODAY, min_waiting_days=30)) == {"search": [ref(waiting)]}
    [card] = everything["search"][:1]
    assert (card["waiting_days"], card["days_in_step"]) == ((TODAY - date(2026, 10, 1)).days, 74)
