"""Replies and bounces fetched over IMAP from a real dovecot server, filed onto their inquiry's thread."""

import json
import os
import smtplib
import stat
import subprocess
import sys
from datetime import timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.communication import dispatch, followup, inbound_fetch, inbound_store, outbox, timeline
from core.communication.catcher import MailCatcher
from core.communication.inbound_models import FailingAddress, InboundKind, InboundMail
from core.communication.models import CallStatus, PhoneCall
from core.communication.sender import build_message
from core.config import get_settings, load_settings
from core.matching.models import InquiryStatus
from core.operations.models import JobRun, JobStatus
from core.patients.models import Patient, Search
from core.therapists.models import Therapist
from tests.support.imap_server import imap_server
from tests.support.matching import NOW, STAFF, propose, searching_patient, sent, therapist
from tests.support.postgres import free_port

LATER = NOW + timedelta(days=2)


@pytest.fixture(scope="module")
def imap():
    with imap_server() as server:
        yield server


@pytest.fixture
def mailbox(imap):
    """The server's INBOX, emptied before each test."""
    conn = imap.connect()
    conn.uid("STORE", "1:*", "+FLAGS", r"(\Deleted)")
    conn.expunge()
    conn.logout()
    return imap


def _settings(server):
    return load_settings(imap_host=server.host, imap_port=server.port, imap_user=server.user,
                         imap_password=server.password, imap_ssl=False)  # fmt: skip


def _inquiry_mail(session):
    """An inquiry that went out, and the mail that carried it (as the practice received it)."""
    doctor = therapist(session, "Kraus")
    inquiry = sent(session, doctor, [searching_patient(session, "Geheim")])
    context = outbox.inquiry_context(session, inquiry_id=inquiry.id, now=NOW)
    mail = outbox.enqueue(session, template="inquiry", to_address=context["to_address"], context=context,
                          inquiry_id=inquiry.id, therapist_id=doctor.id, now=NOW)  # fmt: skip
    return inquiry, mail, build_message(mail, mail_from=get_settings().mail_from, now=NOW)


def _reply(original, *, body="Wir haben ab Januar einen Platz frei.", headers=True) -> bytes:
    reply = EmailMessage()
    reply["From"] = original["To"]
    reply["To"] = original["Reply-To"]
    reply["Subject"] = f"AW: {original['Subject']}"
    reply["Message-ID"] = f"<reply-{original['Message-ID'].strip('<>')}>"
    reply["Date"] = "Mon, 30 Nov 2026 10:15:00 +0100"
    if headers:
        reply["In-Reply-To"] = original["Message-ID"]
        reply["References"] = original["Message-ID"]
    reply.set_content(body)
    return bytes(reply)


def _bounce(original, *, action="failed") -> bytes:
    return f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example.org>
To: {original["From"]}
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.example.org>
Date: Mon, 30 Nov 2026 10:20:00 +0100
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

The mail could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {original["To"]}
Original-Recipient: rfc822; {original["To"]}
Action: {action}
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

From: {original["From"]}
To: {original["To"]}
Subject: Anfrage
Message-ID: {original["Message-ID"]}

--B--
""".replace("\n", "\r\n").encode()


def test_fetch__a_reply_lands_in_the_inquiry_thread_once_and_is_flagged_on_the_server(session, mailbox):
    inquiry, _mail, original = _inquiry_mail(session)
    mailbox.append(_reply(original))
    settings = _settings(mailbox)

    report = inbound_fetch.fetch(session, now=LATER, settings=settings)
    session.commit()  # the job runner commits; only then are the mails flagged on the server

    assert (report.read, report.replies) == (1, 1)
    [entry] = [e for e in timeline.entries(session, inquiry_id=inquiry.id) if e.kind == "reply"]
    assert entry.title.startswith("AW:")
    assert inquiry.reference in entry.title
    assert entry.status == "open"
    stored = session.get(InboundMail, entry.record_id)
    assert stored.body_text.strip() == "Wir haben ab Januar einen Platz frei."
    assert all(inbound_fetch.FILED_KEYWORD in flags for flags in mailbox.keywords().values())

    again = inbound_fetch.fetch(session, now=LATER, settings=settings)
    assert again.read == 0  # flagged mails are not read again
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 1


def test_fetch__a_mail_read_twice_is_stored_once(session, mailbox):
    """A crash after commit but before flagging: the next run reads the mail again and skips it."""
    _inquiry, _mail, original = _inquiry_mail(session)
    mailbox.append(_reply(original))
    settings = _settings(mailbox)
    inbound_fetch.fetch(session, now=LATER, settings=settings)  # not committed: the server keeps it unflagged
    second = inbound_fetch.fetch(session, now=LATER, settings=settings)
    assert (second.read, second.seen_before, second.replies) == (1, 1, 0)
    assert session.scalar(select(func.count()).select_from(InboundMail)) == 1


def test_fetch__a_reply_without_thread_headers_is_matched_by_its_reply_address(session, mailbox):
    inquiry, mail, original = _inquiry_mail(session)
    assert original["Reply-To"] == f"vermittlung+m{mail.id}@example.org"
    mailbox.append(_reply(original, headers=False))
    inbound_fetch.fetch(session, now=LATER, settings=_settings(mailbox))
    stored = session.scalar(select(InboundMail))
    assert (stored.kind, stored.matched_by, stored.inquiry_id, stored.email_id) == (
        InboundKind.REPLY, "reply_address", inquiry.id, mail.id)  # fmt: skip


def test_fetch__a_bounce_marks_the_address_failing_and_moves_the_inquiry_to_a_phone_call(session, mailbox):
    inquiry, mail, original = _inquiry_mail(session)
    mailbox.append(_bounce(original))
    report = inbound_fetch.fetch(session, now=LATER, settings=_settings(mailbox))

    assert (report.bounces, report.calls_scheduled) == (1, 1)
    failing = session.scalar(select(FailingAddress))
    assert failing.address == mail.to_address.lower()
    assert (failing.therapist_id, failing.practice_id) == (inquiry.therapist_id, inquiry.practice_id)
    assert "5.1.1" in failing.reason
    assert inbound_store.failing_addresses(session, {mail.to_address.upper()}) == {mail.to_address.lower()}
    session.refresh(inquiry)
    assert inquiry.status == InquiryStatus.CALL_SCHEDULED
    call = session.scalar(select(PhoneCall).where(PhoneCall.inquiry_id == inquiry.id))
    assert call.status == CallStatus.SCHEDULED
    assert call.scheduled_for > LATER
    kinds = [e.kind for e in timeline.entries(session, inquiry_id=inquiry.id)]
    assert "bounce" in kinds


def test_fetch__a_delay_report_is_stored_but_fails_nothing(session, mailbox):
    inquiry, _mail, original = _inquiry_mail(session)
    mailbox.append(_bounce(original, action="delayed"))
    report = inbound_fetch.fetch(session, now=LATER, settings=_settings(mailbox))
    assert report.bounces == 0
    assert session.scalar(select(func.count()).select_from(FailingAddress)) == 0
    session.refresh(inquiry)
    assert inquiry.status == InquiryStatus.SENT


def test_fetch__an_unmatched_mail_is_kept_for_staff_and_counted(session, mailbox):
    stray = EmailMessage()
    stray["From"], stray["To"], stray["Subject"] = "jemand@example.net", "vermittlung@example.org", "Frage"
    stray["Message-ID"] = "<stray@example.net>"
    stray.set_content("Wie lange dauert es?")
    mailbox.append(bytes(stray))
    inbound_fetch.fetch(session, now=LATER, settings=_settings(mailbox))
    assert inbound_store.open_inbound_counts(session) == {"replies": 0, "bounces": 0, "other": 1}


def test_open_inbound_counts__a_handled_mail_is_no_longer_open(session, mailbox):
    _inquiry, _mail, original = _inquiry_mail(session)
    mailbox.append(_reply(original))
    mailbox.append(_bounce(original))
    inbound_fetch.fetch(session, now=LATER, settings=_settings(mailbox))
    assert inbound_store.open_inbound_counts(session) == {"replies": 1, "bounces": 1, "other": 0}
    reply = session.scalar(select(InboundMail).where(InboundMail.kind == InboundKind.REPLY))
    inbound_store.mark_handled(session, inbound_id=reply.id, actor="anna@example.org", now=LATER)
    assert inbound_store.open_inbound_counts(session) == {"replies": 0, "bounces": 1, "other": 0}


def test_fetch__is_off_without_imap_host_unless_mail_goes_to_the_local_catcher():
    assert inbound_fetch.source_for(load_settings(smtp_host="smtp.example.org", smtp_port=587)) is None
    assert inbound_fetch.source_for(load_settings()).name == "catcher"  # make run: the catcher's inbox
    assert inbound_fetch.source_for(load_settings(imap_host="imap.example.org")).name == "imap"


def test_local_stack__a_reply_sent_to_the_catcher_reaches_the_thread(session, tmp_path):
    """make run: the catcher files mail to a reply address into DATA_DIR/inbound, fetch_mail reads it from there."""
    inquiry, _mail, original = _inquiry_mail(session)
    port = free_port()
    catcher = MailCatcher(tmp_path / "mailbox", port=port, inbound=tmp_path / "inbound",
                          mail_from=get_settings().mail_from)  # fmt: skip
    catcher.start()
    try:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail("praxis@example.org", [original["Reply-To"]], _reply(original))
            smtp.send_message(original)  # our own outgoing mail is caught, but is no reply
    finally:
        catcher.stop()
    [filed] = list((tmp_path / "inbound" / "new").iterdir())
    assert stat.S_IMODE(filed.stat().st_mode) == 0o600

    source = inbound_fetch.MaildirSource(tmp_path / "inbound")
    report = inbound_fetch.fetch(session, now=LATER, source=source)
    session.commit()

    assert report.replies == 1
    assert [e.kind for e in timeline.entries(session, inquiry_id=inquiry.id)].count("reply") == 1
    assert list((tmp_path / "inbound" / "new").iterdir()) == []  # moved to cur/ with the Seen flag
    assert inbound_fetch.fetch(session, now=LATER, source=source).read == 0


def test_fetch_mail_command__files_a_reply_and_records_its_run(committed_db, mailbox, repo_root):
    imap = mailbox
    with Session(committed_db, expire_on_commit=False) as session:
        inquiry, _mail, original = _inquiry_mail(session)
        session.commit()
    imap.append(_reply(original))
    env = {**os.environ, "IMAP_HOST": imap.host, "IMAP_PORT": str(imap.port), "IMAP_USER": imap.user,
           "IMAP_PASSWORD": imap.password, "IMAP_SSL": "0"}  # fmt: skip
    result = subprocess.run([sys.executable, "-m", "jobs.fetch_mail"], cwd=repo_root, env=env, capture_output=True,
                            text=True, timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["counts"]["replies"] == 1, result.stdout
    with Session(committed_db) as session:
        assert session.scalar(select(InboundMail.inquiry_id)) == inquiry.id
        run = session.scalar(select(JobRun).where(JobRun.job_name == "fetch_mail"))
        assert (run.status, run.triggered_by) == (JobStatus.SUCCEEDED, "cli")
    assert all(inbound_fetch.FILED_KEYWORD in flags for flags in imap.keywords().values())


def test_bounce__later_inquiries_to_that_address_are_called_instead_of_mailed(session, mailbox):
    inquiry, _mail, original = _inquiry_mail(session)
    mailbox.append(_bounce(original))
    inbound_fetch.fetch(session, now=LATER, settings=_settings(mailbox))
    doctor = session.get(Therapist, inquiry.therapist_id)

    proposal = propose(session, doctor, [searching_patient(session, "Zweite")], run_id="run-2")
    queued = dispatch.approve_and_queue(session, inquiry_id=proposal.id, actor=STAFF, now=LATER,
                                        override_reason="test: the practice is in cooldown")  # fmt: skip
    counts = followup.run(session, now=LATER)

    assert queued is None  # no mail to the address that bounced
    assert counts["calls_scheduled"] == 1
    session.refresh(proposal)
    assert proposal.status == InquiryStatus.CALL_SCHEDULED


def test_erase__blanks_the_patients_replies_and_scrubs_her_reference_from_the_practices(session):
    from core.communication import inbound
    from core.patients import privacy

    inquiry, _mail, original = _inquiry_mail(session)
    search = session.get(Search, inquiry.items[0].search_id)
    patient = session.get(Patient, search.patient_id)
    patient.email = "geheim@example.org"
    context = outbox.patient_context(session, patient_id=patient.id, now=NOW)
    to_her = outbox.enqueue(session, template="search_started", to_address=patient.email, context=context,
                            patient_id=patient.id, now=NOW)  # fmt: skip
    own = build_message(to_her, mail_from=get_settings().mail_from, now=NOW)
    hers = _reply(own, body="Ich bin Lea Geheim und habe Angst vor der Warteliste.")
    practice = _reply(original, body=f"Für {patient.reference} haben wir leider keinen Platz.")
    for raw in (hers, practice):
        inbound_store.file_mail(session, parsed=inbound.parse(raw), now=LATER)
    reference = patient.reference

    privacy.erase(session, patient_id=patient.id, actor="admin@example.org", reason="Antrag", now=LATER)

    texts = [(row.from_address or "") + row.subject + row.body_text for row in session.scalars(select(InboundMail))]
    assert len(texts) == 2
    assert not [text for text in texts if "Geheim" in text or "geheim@" in text or reference in text]


def test_export__contains_the_patients_replies(session):
    import json

    from core.communication import inbound
    from core.patients import privacy

    search = searching_patient(session, "Antwort", email="antwort@example.org")
    context = outbox.patient_context(session, patient_id=search.patient_id, now=NOW)
    to_her = outbox.enqueue(session, template="search_started", to_address="antwort@example.org", context=context,
                            patient_id=search.patient_id, now=NOW)  # fmt: skip
    own = build_message(to_her, mail_from=get_settings().mail_from, now=NOW)
    inbound_store.file_mail(session, parsed=inbound.parse(_reply(own, body="Danke, ich warte.")), now=LATER)
    data = json.loads(privacy.export_json(session, patient_id=search.patient_id, actor="admin@example.org"))
    assert [m["body_text"].strip() for m in data["received_emails"]] == ["Danke, ich warte."]
