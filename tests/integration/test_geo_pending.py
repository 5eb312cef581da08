"""The geocoding job: finds records without usable location, locates them, commits in batches, resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit.models import AuditEvent
from core.events.models import DomainEvent
from core.geo.geocoding import NominatimClient
from core.geo.models import Postcode
from core.geo.pending import geocode_pending
from core.operations import registry, runner
from core.patients.models import Patient
from core.therapists.models import Practice, Therapist
from tests.support.fake_nominatim import FakeNominatim, found
from tests.support.postgres import wait_for

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
HOUSE = (52.5310, 13.3849)


def patient(session, reference, *, postcode="10115", street=None, erased=False, **values) -> Patient:
    record = Patient(reference=reference, first_name="Test", last_name="Person", gender="female",
                     birth_date=date(1990, 1, 1), postcode=postcode, city="Berlin", street=street,
                     erased_at=NOW if erased else None, **values)  # fmt: skip
    session.add(record)
    session.flush()
    return record


@pytest.fixture
def records(session):
    records = {
        "patient": patient(session, "P-GEO1"),
        "erased": patient(session, "P-GEO2", erased=True),
        "therapist": Therapist(first_name="Tea", last_name="Test", gender="female", postcode="80331",
                               street="Marienplatz 8", city="München"),
        "unlocatable": Therapist(first_name="Udo", last_name="Test", gender="male", postcode="00000"),
        "practice": Practice(name="Praxis am Markt", postcode="20095", street="Markt 1", city="Hamburg"),
        "located": Therapist(first_name="Lea", last_name="Test", gender="female", postcode="10115",
                             latitude=52.53, longitude=13.38, location_precision="address", location_source="manual"),
    }  # fmt: skip
    session.add_all(records.values())
    session.flush()
    return records


def test_geocode_pending__offline_places_records_at_their_plz_centroid(session, records):
    counts = geocode_pending(session, now=NOW, client=None)

    assert {k: counts[k] for k in ("patient", "therapist", "practice", "address", "postcode", "none")} == {
        "patient": 1, "therapist": 1, "practice": 1, "address": 0, "postcode": 3, "none": 0,
    }  # fmt: skip
    assert (counts["remaining"], counts["unlocatable"], counts["requests"]) == (0, 1, 0)
    munich = session.get(Postcode, "80331")
    therapist = session.get(Therapist, records["therapist"].id)
    session.refresh(therapist)
    assert (therapist.latitude, therapist.longitude) == (munich.latitude, munich.longitude)
    assert (therapist.location_precision.value, therapist.location_source) == ("postcode", "postcode_centroid")
    assert therapist.version == 1  # not bumped: a form staff have open on this therapist can still be saved
    for key in ("erased", "unlocatable"):
        record = records[key]
        session.refresh(record)
        assert (record.latitude, record.location_precision.value) == (None, "none")  # never a made-up 0,0


def test_geocode_pending__audits_field_names_only_and_emits_events(session, records):
    geocode_pending(session, now=NOW, client=None)

    audit = session.scalars(select(AuditEvent).where(AuditEvent.action == "location.updated")).all()
    assert {(a.entity_type, a.actor) for a in audit} == {
        ("patient", "job:geocode_pending"), ("therapist", "job:geocode_pending"), ("practice", "job:geocode_pending"),
    }  # fmt: skip
    patient_audit = next(a for a in audit if a.entity_type == "patient")
    assert patient_audit.details["fields"] == ["latitude", "longitude", "location_precision", "location_source"]
    assert "52." not in json.dumps(patient_audit.details)  # names, never the coordinates themselves
    events = session.scalars(select(DomainEvent.event_type).where(DomainEvent.event_type.like("%.location_updated")))
    assert sorted(events) == ["patient.location_updated", "practice.location_updated", "therapist.location_updated"]


def test_geocode_pending__online_upgrades_centroids_to_addresses_once(session, engine):
    record = patient(session, "P-GEO3", street="Invalidenstr. 116", latitude=52.53, longitude=13.38,
                     location_precision="postcode", location_source="postcode_centroid")  # fmt: skip
    with FakeNominatim(default=found(*HOUSE)) as server:
        client = NominatimClient(url=server.url, user_agent="tests", engine=engine, timeout=2)

        first = geocode_pending(session, now=NOW, client=client)
        second = geocode_pending(session, now=NOW, client=client)

    session.refresh(record)
    assert (record.location_precision.value, record.location_source) == ("address", "nominatim")
    assert (record.latitude, record.longitude) == pytest.approx(HOUSE)
    assert (first["address"], first["requests"], first["remaining"]) == (1, 1, 0)
    assert (second["patient"], second["requests"]) == (0, 0)  # the cache knows this address now


def test_geocode_pending__limit_stops_early_and_the_next_run_resumes(session):
    for i in range(5):
        patient(session, f"P-LIM{i}")
    commits = []

    first = geocode_pending(session, now=NOW, client=None, limit=2, batch_size=1, commit=lambda: commits.append(1))
    second = geocode_pending(session, now=NOW, client=None)

    assert (first["postcode"], first["remaining"]) == (2, 3)
    assert len(commits) >= 2  # one per batch of one, plus the final one
    assert (second["postcode"], second["remaining"]) == (3, 0)


def test_geocode_pending__is_registered_and_runs_from_the_scheduler(committed_db, monkeypatch):
    from core.config import get_settings

    monkeypatch.delenv("NOMINATIM_URL", raising=False)
    get_settings.cache_clear()
    with Session(committed_db) as session:
        patient(session, "P-SCHED")
        session.commit()

    job = registry.get("geocode_pending")
    run = runner.run_job("geocode_pending", triggered_by="tests", engine=committed_db, now=NOW)

    assert job.cron == "*/30 * * * *"
    assert (run.status.value, run.counts["patient"], run.counts["postcode"]) == ("succeeded", 1, 1)


def test_geocode_pending_cli__dry_run_changes_nothing(committed_db, repo_root):
    with Session(committed_db) as session:
        patient(session, "P-DRY")
        session.commit()

    command = [sys.executable, "-m", "jobs.geocode_pending", "--dry-run"]
    env = {**os.environ, "NOMINATIM_URL": ""}
    result = subprocess.run(command, cwd=repo_root, env=env, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1])["postcode"] == 1
    assert "1/1" in result.stderr  # the progress line
    with Session(committed_db) as session:
        assert session.scalar(select(Patient.location_precision).where(Patient.reference == "P-DRY")).value == "none"


def test_geocode_pending_cli__ctrl_c_keeps_finished_batches_and_a_rerun_resumes(committed_db, repo_root):
    with Session(committed_db) as session:
        for i in range(5):
            patient(session, f"P-INT{i}", street=f"Invalidenstr. {110 + i}")
        session.commit()

    def addressed() -> int:
        with Session(committed_db) as session:
            rows = session.scalars(select(Patient.location_precision).where(Patient.reference.like("P-INT%")))
            return sum(p.value == "address" for p in rows)

    with FakeNominatim(default=found(*HOUSE)) as server:
        env = {**os.environ, "NOMINATIM_URL": server.url, "NOMINATIM_USER_AGENT": "tests"}
        command = [sys.executable, "-m", "jobs.geocode_pending", "--batch-size", "1"]
        job = subprocess.Popen(command, cwd=repo_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
        wait_for(lambda: addressed() >= 2, timeout=60, what="two committed batches")
        job.send_signal(signal.SIGINT)
        _, stderr = job.communicate(timeout=30)

        assert job.returncode == 130
        assert "interrupted" in stderr
        kept = addressed()
        assert 2 <= kept < 5

        rerun = subprocess.run(command, cwd=repo_root, env=env, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert json.loads(rerun.stdout.splitlines()[-1])["address"] == 5 - kept
        assert addressed() == 5
        assert len(server.requests) <= 6  # each address once; at most the one cut off mid-batch is asked again
        assert server.smallest_gap() >= 1.0
