"""Run the local SMTP catcher: ``python -m jobs.mail_catcher`` (started by ``make run``).

Listens on 127.0.0.1:MAIL_CATCHER_PORT and stores every mail in DATA_DIR/mailbox/ as an .eml file, readable
by the account running it only (folder 0700, files 0600). Replies to our mails (sent to a reply
address) are also filed into the Maildir DATA_DIR/inbound, which jobs.fetch_mail reads when IMAP_HOST is
unset. Its log names mails by Message-ID and counts them; addresses, subjects and bodies never appear in
it.
"""

from __future__ import annotations

import signal
import threading

from core.communication.catcher import MailCatcher
from core.config import get_settings
from jobs.cli import main_guard


def main() -> int:
    settings = get_settings()
    catcher = MailCatcher(settings.data_dir / "mailbox", port=settings.mail_catcher_port,
                          inbound=settings.data_dir / "inbound", mail_from=settings.mail_from)  # fmt: skip
    catcher.start()
    print(f"mail catcher listening on 127.0.0.1:{settings.mail_catcher_port}", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    catcher.stop()
    return 0


if __name__ == "__main__":
    main_guard(main)
