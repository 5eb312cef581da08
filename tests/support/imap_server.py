"""A real IMAP server for the tests: Debian's dovecot with its own config in a temp dir, as a non-root user.

Passwd-file auth, Maildir storage, plain IMAP on a free localhost port; one account. Run as root (CI
containers), dovecot refuses to run its login processes as root, so the whole server then runs as
``nobody`` in a directory it owns. ``make test`` installs dovecot-imapd (see the Makefile). Example:

    with imap_server(tmp) as server:
        server.append(raw)  # deliver a mail
        server.keywords()   # -> {uid: {"WorkbenchFiled"}, ...}
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DOVECOT = Path("/usr/sbin/dovecot")
USER, PASSWORD = "inbox", "test-secret"
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(self.user, self.password)
        conn.select("INBOX")
        return conn

    def append(self, raw: bytes) -> None:
        conn = self.connect()
        try:
            status, detail = conn.append("INBOX", None, None, raw)
            assert status == "OK", detail
        finally:
            conn.logout()

    def keywords(self) -> dict[int, set[str]]:
        """Return the flags of every mail in the INBOX by UID."""
        conn = self.connect()
        try:
            _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
        finally:
            conn.logout()
        flags: dict[int, set[str]] = {}
        for line in data:
            if not line:
                continue
            text = line.decode()
            uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
            flags[uid] = set(text.split("FLAGS (")[1].split(")")[0].split())
        return flags


@contextlib.contextmanager
def imap_server() -> Iterator[ImapServer]:
    """Start dovecot on a free port, yield the server, stop it and delete its files."""
    if not DOVECOT.exists():
        raise RuntimeError("dovecot is missing; install it: apt-get install dovecot-imapd (make test does)")
    as_root = os.geteuid() == 0
    account = pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.geteuid())
    group = account.pw_gid
    root = Path(tempfile.mkdtemp(prefix="workbench-imap-"))  # not under pytest's 0700 basetemp: nobody must enter
    for sub in ("run", "state", "mail"):
        (root / sub).mkdir()
    port = _free_port()

    (root / "dovecot.conf").write_text(
        CONFIG.format(
            root=root, user=account.pw_name, group=grp.getgrgid(group).gr_name, uid=account.pw_uid, gid=group, port=port
        )
    )
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    if as_root:
        for path in (root, *root.rglob("*")):
            os.chown(path, account.pw_uid, group)
    command = [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")]
    process = subprocess.Popen(
        command, user=account.pw_uid if as_root else None, group=group if as_root else None,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = ImapServer("127.0.0.1", port, USER, PASSWORD, root)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.connect().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if process.poll() is not None or time.monotonic() > deadline:
                    log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                    raise RuntimeError(f"dovecot did not start on port {port}: {log[-2000:]}") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)
