"""System status page: row counts, jobs, outbox; only admins may run a job from it."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.operations.models import JobRun
from tests.dashboards.conftest import open_page, texts


def status_page(committed_db, make_user, role="admin"):
    from pathlib import Path

    from sqlalchemy.orm import Session

    from core.auth.service import get_by_email

    email = make_user(email=f"{role}@example.org", role=role)
    with Session(committed_db) as session:
        user_id = get_by_email(session, email=email).id
    return open_page(Path(__file__).resolve().parents[2], "status.py", user_id=user_id, email=email, role=role)


def test_status__shows_rows_per_table_and_the_jobs(committed_db, make_user):
    at = status_page(committed_db, make_user)
    frames = [table.value for table in at.table]
    rows = next(f for f in frames if f.index.name == "Tabelle")
    counts = rows["Anzahl"].to_dict()
    assert counts["staff_user"] == 1
    assert counts["postcode"] == 8168
    jobs = next(f for f in frames if f.index.name == "Job")
    assert {"heartbeat", "maintenance"} <= set(jobs.index)
    assert set(jobs["Letzter Lauf"]) == {"noch nie"}  # the empty state of a new installation


def test_status__admin_runs_a_job_and_sees_the_result(make_user, committed_db):
    at = status_page(committed_db, make_user)
    at.selectbox(key="trigger_job_name").select("heartbeat")
    next(b for b in at.button if b.label == "Ausführen").click()
    at.run()
    assert "Job heartbeat: erfolgreich" in texts(at)
    assert "Ergebnis: wartende E-Mails: 0, Ereignisse im Ausgang: 0" in texts(at)  # in words, not a dict
    with Session(committed_db) as session:
        run = session.scalars(select(JobRun)).one()
    assert (run.job_name, run.status.value, run.triggered_by) == ("heartbeat", "succeeded", "admin@example.org")


def test_status__staff_cannot_run_jobs(make_user, committed_db):
    at = status_page(committed_db, make_user, role="staff")
    assert "Systemstatus" in texts(at)
    assert not [b for b in at.button if b.label == "Ausführen"]


def test_status__unreachable_database_is_reported_not_crashed(make_user, monkeypatch, committed_db):
    from core.operations import status

    at = status_page(committed_db, make_user)

    def broken(engine, settings, *, now):
        return {
            "database": {"reachable": False, "error": "connection refused (port 5999)"},
            "checks": status.configuration_checks(settings),
        }

    monkeypatch.setattr(status, "system_status", broken)
    at.button(key="status_refresh").click()
    at.run()
    assert not at.exception
    assert "Die Datenbank antwortet nicht: connection refused (port 5999)" in texts(at)
    assert "Antwort-Links zeigen auf" in texts(at)  # the configuration checks need no database


def fresh_settings(monkeypatch, **variables):
    from core.config import get_settings
    from dashboards import data

    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    data.clear_status()


def test_status__warns_when_mail_goes_where_nothing_listens(make_user, committed_db, monkeypatch):
    from tests.support.postgres import free_port

    port = free_port()  # nothing listens there
    fresh_settings(monkeypatch, MAIL_CATCHER_PORT="1025", SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
    try:
        at = status_page(committed_db, make_user)
        assert not at.exception
        warnings = "\n".join(w.value for w in at.warning)
        assert f"Ausgehende E-Mails gehen an 127.0.0.1:{port}, aber dort nimmt niemand an" in warnings
        assert "MAIL_CATCHER_PORT (1025)" in warnings
    finally:
        monkeypatch.undo()
        fresh_settings(monkeypatch)


def test_status__mail_to_a_listening_server_is_fine(make_user, committed_db, monkeypatch):
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        fresh_settings(monkeypatch, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port))
        try:
            at = status_page(committed_db, make_user)
        finally:
            monkeypatch.undo()
            fresh_settings(monkeypatch)
    assert f"Ausgehende E-Mails gehen an 127.0.0.1:{port}; dort nimmt ein Server an." in texts(at)
    assert not [w for w in at.warning if "E-Mails" in w.value]


def test_status__warns_when_answer_links_point_to_another_port(make_user, committed_db, monkeypatch):
    fresh_settings(monkeypatch, APP_PORT="8501", PUBLIC_BASE_URL="http://localhost:8600")
    try:
        at = status_page(committed_db, make_user)
        warnings = "\n".join(w.value for w in at.warning)
        assert "Antwort-Links zeigen auf http://localhost:8600, die App läuft aber auf Port 8501" in warnings
    finally:
        monkeypatch.undo()
        fresh_settings(monkeypatch)
