"""Fetch replies and delivery-failure reports once: ``python -m jobs.fetch_mail [--dry-run]``.

Reads the IMAP mailbox of IMAP_HOST (under ``make run``: the local catcher's inbox, DATA_DIR/inbound),
files each new mail onto the inquiry it answers, marks bounced addresses as failing and moves their
inquiries to the phone call, then flags the filed mails on the server (core.communication.inbound_fetch).
The scheduler runs it every five minutes (job ``fetch_mail``); by hand it runs through the same job runner,
so the run is recorded in ``job_run`` and never overlaps a scheduled one. Prints the counts as JSON.
"""

from __future__ import annotations

import argparse

from jobs.cli import exit_code, main_guard, run_by_hand, run_json


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.fetch_mail", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="read and count the new mails; store and flag nothing")
    args = parser.parse_args()
    run = run_by_hand("fetch_mail", dry_run=args.dry_run)
    print(run_json(run, counts=run.counts))
    return exit_code(run)


if __name__ == "__main__":
    main_guard(main)
