"""Several processes on one database: two dashboards and two schedulers through a busy day (issue 15).

What one deployment with more than one process of each role must guarantee:
- no job runs twice at once: every run of a job holds its advisory lock, so the runs of one job (from
  either scheduler) never overlap in time, and the loser of a race records a 'skipped' run;
- no mail goes out twice: every mail of the outbox reaches the SMTP server (the real in-process catcher)
  exactly once, by Message-ID, however the two schedulers' sender runs interleave;
- no login leaks: a login in dashboard process A does not log in a fresh browser on process B. The login
  cookie is a token of the shared server-side session table, so the browser that logged in stays logged
  in on either process (a load balancer may send it to B) as its own user, and a logout on one ends it on
  both.

The day is compressed: both schedulers fire their jobs every second or few (6-field cron in JOB_SCHEDULES)
while staff approve proposals in batches, so new inquiry mails keep entering the outbox.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.auth import cookies
from core.auth import service as auth
from core.auth.models import LoginSession
from core.communication import dispatch
from core.communication.catcher import MailCatcher
from core.communication.models import Email, EmailStatus
from core.db import refresh_statistics, session_scope
from core.demo import seed
from core.matching.models import Inquiry, InquiryStatus
from core.operations.models import JobRun, JobStatus
from tests.e2e.conftest import login, screenshot
from tests.support.browser import dashboard, login_cookie, stop
from tests.support.postgres import free_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "ein langes passwort"
LOGGED_IN = "Angemeldet als"
DAY_SECONDS = 60  # the compressed working day: long enough for many runs of every job from both schedulers
APPROVE_EVERY_SECONDS = 2  # staff approve a few proposals this often
APPROVALS_PER_ROUND = 2
DRAIN_SECONDS = 120  # after the day, the outbox must empty within this on a loaded machine
# the day's timetable, compressed: the sender every second, the rest every few seconds
SCHEDULES = {
    "send_emails": "* * * * * *",
    "heartbeat": "* * * * * *",
    "follow_up": "*/2 * * * * *",
    "status_updates": "*/3 * * * * *",
    "unblock_therapists": "*/2 * * * * *",
    "reactivate_searches": "*/2 * * * * *",
    "run_matching": "*/5 * * * * *",
}


@contextlib.contextmanager
def scheduler(repo_root: Path, log_path: Path, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "jobs.scheduler", "--only", ",".join(SCHEDULES)],
                                cwd=repo_root, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        try:
            yield proc
        finally:
            stop(proc)


def scheduler_env(smtp_port: int) -> dict[str, str]:
    env = {**os.environ, "JOB_SCHEDULES": json.dumps(SCHEDULES), "SMTP_HOST": "127.0.0.1",
           "SMTP_PORT": str(smtp_port), "SMTP_SECURITY": "none"}  # fmt: skip
    env["SEND_WINDOW"] = "Mon-Sun 00:00-24:00 holidays=none"  # the sender works whenever the test runs
    for key in ("SMTP_USER", "SMTP_PASSWORD", "NOMINATIM_URL", "KAFKA_BOOTSTRAP"):
        env.pop(key, None)
    return env


def seed_day(engine) -> None:
    """The demo world (inquiries with queued mail, proposals to review) and two staff members."""
    with session_scope(engine) as session:
        seed(session, therapists=300, patients=400, seed=15, today=date.today())
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD, display_name="Sam Staff")
        auth.create_user(session, email="kim@example.org", role="staff", password=PASSWORD, display_name="Kim Kollegin")
    refresh_statistics(engine)


class Staff(threading.Thread):
    """Approves a few proposals every few seconds (what the Vorschläge page does), until told to stop."""

    def __init__(self, engine) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.done = threading.Event()
        self.approved = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.done.wait(APPROVE_EVERY_SECONDS):
                with session_scope(self.engine) as session:
                    ids = session.scalars(select(Inquiry.id).where(Inquiry.status == InquiryStatus.PROPOSED)
                                          .order_by(Inquiry.id).limit(APPROVALS_PER_ROUND)).all()  # fmt: skip
                    reports = dispatch.approve_many_and_queue(session, inquiry_ids=ids, actor="sam@example.org",
                                                              now=datetime.now(UTC))  # fmt: skip
                self.approved += sum(report.approved for report in reports)
        except BaseException as exc:  # reported by the test, never lost in a thread
            self.error = exc


def caught_message_ids(mailbox: Path) -> Counter:
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    return Counter(str(parser.parsebytes(path.read_bytes())["Message-ID"]).strip() for path in mailbox.glob("*.eml"))


def outbox_due(engine) -> int:
    with Session(engine) as session:
        return session.scalar(
            select(func.count()).where(
                Email.status.in_([EmailStatus.QUEUED, EmailStatus.SENDING, EmailStatus.FAILED]),
                Email.needs_review.is_(False),
                (Email.next_attempt_at.is_(None)) | (Email.next_attempt_at <= func.now()),
            )
        )


def who_is_logged_in(page, url: str) -> str | None:
    """Open ``url`` in this browser and return the name it is logged in as, or None for the login form."""
    page.goto(url)
    logged_in, form = page.get_by_text(LOGGED_IN), page.get_by_role("button", name="Anmelden")
    logged_in.or_(form).first.wait_for(timeout=60_000)
    if form.is_visible():
        return None
    return logged_in.inner_text().removeprefix(LOGGED_IN).strip()


def check_logins(browser, url_a: str, url_b: str, engine) -> None:
    """Logins on two dashboard processes: each browser sees its own user on both, a fresh browser nobody."""
    sam = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE")
    kim = browser.new_context(viewport={"width": 1400, "height": 900}, locale="de-DE")
    try:
        sam_page, kim_page = sam.new_page(), kim.new_page()
        login(sam_page, url_a, "sam@example.org", PASSWORD)
        login_cookie(sam_page)

        # a fresh browser is logged in on neither process, also not on the one Sam just logged in to
        assert who_is_logged_in(kim_page, url_b) is None, "Sam's login in process A leaked into another browser on B"
        assert who_is_logged_in(kim_page, url_a) is None, "Sam's login in process A leaked into another browser on A"
        assert not [c for c in kim.cookies() if c["name"] == cookies.NAME]

        login(kim_page, url_b, "kim@example.org", PASSWORD)
        login_cookie(kim_page)
        # the login cookie holds on the other process of the same deployment, each browser as its own user
        assert who_is_logged_in(kim_page, url_a).startswith("Kim Kollegin")
        assert who_is_logged_in(sam_page, url_b).startswith("Sam Staff")
        screenshot(sam_page, "multi-process-sam-on-b")
        assert who_is_logged_in(sam_page, url_a).startswith("Sam Staff")
        assert who_is_logged_in(kim_page, url_b).startswith("Kim Kollegin")
        with Session(engine) as session:
            open_sessions = session.execute(
                select(LoginSession.user_id, func.count()).where(LoginSession.ended_at.is_(None))
                .group_by(LoginSession.user_id)
            ).all()  # fmt: skip
            emails = ("sam@example.org", "kim@example.org")
            users = {auth.get_by_email(session, email=e).id: e for e in emails}
        assert sorted((users[user_id], count) for user_id, count in open_sessions) == [
            ("kim@example.org", 1), ("sam@example.org", 1)
        ], "one server-side session per login, whichever process served the browser"  # fmt: skip

        # a logout on process B ends Sam's login on A too, and leaves Kim's alone
        sam_page.get_by_role("button", name="Abmelden").click()
        sam_page.get_by_role("button", name="Anmelden").wait_for(timeout=60_000)
        assert who_is_logged_in(sam_page, url_a) is None
        assert who_is_logged_in(kim_page, url_a).startswith("Kim Kollegin")
    finally:
        sam.close()
        kim.close()


def test_busy_day__two_dashboards_and_two_schedulers_run_no_job_twice_send_no_mail_twice_and_leak_no_login(
    browser, committed_db, repo_root, tmp_path
):
    seed_day(committed_db)
    day_started = datetime.now(UTC)
    smtp_port = free_port()
    mailbox = tmp_path / "mailbox"
    catcher = MailCatcher(mailbox, port=smtp_port)
    catcher.start()
    staff = Staff(committed_db)
    env = scheduler_env(smtp_port)
    try:
        with (
            dashboard(repo_root, tmp_path / "dashboard-a.log") as url_a,
            dashboard(repo_root, tmp_path / "dashboard-b.log") as url_b,
            scheduler(repo_root, tmp_path / "scheduler-1.log", env) as first,
            scheduler(repo_root, tmp_path / "scheduler-2.log", env) as second,
        ):
            staff.start()
            check_logins(browser, url_a, url_b, committed_db)  # while both schedulers work
            while (datetime.now(UTC) - day_started).total_seconds() < DAY_SECONDS:
                assert [first.poll(), second.poll()] == [None, None], "a scheduler died during the day"
                time.sleep(1)
            staff.done.set()
            staff.join(timeout=120)
            deadline = time.monotonic() + DRAIN_SECONDS
            while outbox_due(committed_db) and time.monotonic() < deadline:
                time.sleep(1)
            pids = {first.pid, second.pid}
    finally:
        staff.done.set()
        if staff.is_alive():
            staff.join(timeout=120)  # never leave its transaction open under the clean-up's TRUNCATE
        catcher.stop()
    logs = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in sorted(tmp_path.glob("scheduler-*.log")))
    assert staff.error is None, repr(staff.error)
    assert staff.approved > 0, "staff approved no proposal: the day queued no inquiry mail"
    assert outbox_due(committed_db) == 0, f"the outbox did not drain after the day\n{logs}"

    # 0 double job runs: per job, the runs that did work never overlap, whichever scheduler ran them
    with Session(committed_db) as session:
        runs = session.scalars(select(JobRun).where(JobRun.pid.in_(pids)).order_by(JobRun.started_at)).all()
    assert runs, logs
    assert not [r for r in runs if r.status == JobStatus.RUNNING], "a run was left 'running'"
    failed = [(r.job_name, (r.error or "").splitlines()[:1]) for r in runs if r.status == JobStatus.FAILED]
    assert failed == [], logs
    worked = [r for r in runs if r.status == JobStatus.SUCCEEDED]
    assert {r.pid for r in worked} == pids, "both schedulers must have done work"
    assert any(r.status == JobStatus.SKIPPED for r in runs), "the schedulers never competed for a job"
    for name in SCHEDULES:
        mine = [r for r in worked if r.job_name == name]
        assert mine, f"job {name} never ran"
        for earlier, later in itertools.pairwise(mine):
            assert later.started_at >= earlier.finished_at, (
                f"two runs of {name} overlapped: run {earlier.id} (pid {earlier.pid}) and {later.id} (pid {later.pid})"
            )
    assert {r.pid for r in worked if r.job_name == "send_emails"} == pids, "both schedulers' senders must have run"
    sent_by = Counter()
    for run in worked:
        if run.job_name == "send_emails":
            sent_by[run.pid] += int((run.counts or {}).get("sent", 0))

    # 0 duplicate mails: every mail sent today reached the SMTP server exactly once, by Message-ID
    caught = caught_message_ids(mailbox)
    duplicates = {message_id: n for message_id, n in caught.items() if n > 1}
    assert duplicates == {}, "mail delivered more than once"
    with Session(committed_db) as session:
        sent_today = set(session.scalars(select(Email.message_id).where(Email.sent_at >= day_started)))
        inquiry_mails = session.scalar(
            select(func.count()).where(Email.sent_at >= day_started, Email.template == "inquiry")
        )
    assert {f"<{m.strip('<>')}>" for m in sent_today} == set(caught), "the catcher and the outbox disagree"
    assert inquiry_mails >= 1, "no inquiry mail went out during the day"
    print(f"\nbusy day: {len(runs)} job runs ({len(worked)} did work, "
          f"{sum(r.status == JobStatus.SKIPPED for r in runs)} skipped), {len(caught)} mails each delivered once "
          f"(per scheduler: {sorted(sent_by.values())}), {staff.approved} proposals approved")  # fmt: skip
