"""The patient page's search and inquiry timeline lists only inquiries that went out (defect 8)."""

from datetime import date

from core.matching import service
from core.patients.overview import overview
from tests.support.matching import NOW, STAFF, propose, searching_patient, sent, therapist


def inquiries_shown(session, patient_id: int) -> list[tuple[str, str]]:
    view = overview(session, patient_id=patient_id, today=date(2026, 12, 14))
    return [(event["reference"], event["outcome"]) for event in view.timeline if event["kind"] == "inquiry"]


def test_timeline__a_discarded_proposal_never_sent_is_no_withdrawn_inquiry(session):
    search = searching_patient(session, "Beispiel")
    proposal = propose(session, therapist(session, "Kraus"), [search])
    service.discard(session, inquiry_id=proposal.id, actor=STAFF, reason="Praxis schließt", now=NOW)
    went_out = sent(session, therapist(session, "Lorenz"), [search])

    assert inquiries_shown(session, search.patient_id) == [(went_out.reference, "pending")]


def test_timeline__a_proposal_withdrawn_by_a_placement_elsewhere_is_not_listed(session):
    search = searching_patient(session, "Beispiel")
    accepted = sent(session, therapist(session, "Lorenz"), [search])
    unsent = propose(session, therapist(session, "Kraus"), [search],
                     run_id="run-2")  # fmt: skip
    [item] = accepted.items
    service.record_answer(session, item_id=item.id, outcome="accepted", actor=STAFF, now=NOW, source="staff")

    shown = inquiries_shown(session, search.patient_id)
    assert shown == [(accepted.reference, "accepted")]
    assert unsent.reference not in [reference for reference, _ in shown]
