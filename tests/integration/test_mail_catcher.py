"""The local mail catcher keeps caught mail private: owner-only files and folder, no patient data in its log.

Caught mail holds health data (patient names in addresses, subjects and bodies). The mailbox must not be
readable by other accounts on the machine whatever the umask, and the catcher's log (DATA_DIR/logs/
mail_catcher.log under ``make run``) must not repeat who got which mail.
"""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from core.communication.catcher import MailCatcher, read_mailbox
from tests.support.postgres import free_port

MESSAGE_ID = "<3f9c2a7e41b84d0c9e5b7a1d2c3e4f50@workbench.example.org>"
PATIENT_ADDRESS = "erika.mustermann@example.org"
SUBJECT = "Ihr Therapieplatz bei Praxis Sonnenweg, Frau Mustermann"
BODY = "Liebe Frau Erika Mustermann, Ihre Suche war erfolgreich (F41.1)."


def patient_mail() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "vermittlung@example.org"
    message["To"] = PATIENT_ADDRESS
    message["Subject"] = SUBJECT
    message["Message-ID"] = MESSAGE_ID
    message.set_content(BODY)
    return message


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The most permissive umask: whatever the catcher writes, it must restrict by itself."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_catcher__stores_mail_only_its_owner_can_read_whatever_the_umask(tmp_path, open_umask):
    mailbox = tmp_path / "mailbox"
    mailbox.mkdir(mode=0o755)  # a mailbox left by an older version: open to everyone
    (mailbox / "20261101T080000000000-0a1b2c3d.eml").write_bytes(bytes(patient_mail()))
    os.chmod(mailbox / "20261101T080000000000-0a1b2c3d.eml", 0o644)
    port = free_port()
    catcher = MailCatcher(mailbox, port=port)
    catcher.start()
    try:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(patient_mail())
    finally:
        catcher.stop()
    files = sorted(mailbox.iterdir())
    assert len(files) == 2
    assert mode(mailbox) == 0o700
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
    assert [mail.subject for mail in read_mailbox(mailbox)] == [SUBJECT, SUBJECT]  # still readable by its owner


def test_catcher__creates_a_missing_mailbox_owner_only(tmp_path, open_umask):
    mailbox = tmp_path / "data" / "mailbox"
    port = free_port()
    catcher = MailCatcher(mailbox, port=port)
    catcher.start()
    try:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(patient_mail())
    finally:
        catcher.stop()
    assert mode(mailbox) == 0o700
    assert [mode(path) for path in mailbox.iterdir()] == [0o600]


def wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the mail catcher ended before it listened"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"the mail catcher did not listen on port {port}")


def test_mail_catcher_job__log_counts_mail_by_message_id_without_address_subject_or_body(tmp_path, repo_root):
    port, data_dir = free_port(), tmp_path / "data"
    log_path = tmp_path / "mail_catcher.log"
    env = os.environ | {"DATA_DIR": str(data_dir), "MAIL_CATCHER_PORT": str(port), "LOG_LEVEL": "DEBUG"}
    with log_path.open("ab") as log:  # as jobs.serve starts it: stdout and stderr into one log file
        process = subprocess.Popen(
            [sys.executable, "-m", "jobs.mail_catcher"], cwd=repo_root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_for_port(port, process)
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                smtp.send_message(patient_mail())
                smtp.send_message(patient_mail(), to_addrs=["max.beispiel@example.org", PATIENT_ADDRESS])
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    text = log_path.read_text()
    assert process.returncode == 0, text
    for secret in (PATIENT_ADDRESS, "max.beispiel", "Mustermann", "Sonnenweg", "F41.1"):
        assert secret not in text
    assert text.count(MESSAGE_ID) == 2  # one line per caught mail, by its Message-ID
    assert "2 mails caught" in text
    assert mode(data_dir / "mailbox") == 0o700
