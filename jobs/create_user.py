"""Create a staff user: ``python -m jobs.create_user --email anna@example.org --role staff``.

The password is read from the PASSWORD environment variable, from the first line of stdin with
``--password-stdin``, or asked for on the terminal (never a command-line argument, which would end up in
shell history). Without a terminal (cron, CI, a pipe) one of the first two is needed. Roles: admin, staff,
manager, analyst.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from core.auth import service as auth
from core.db import session_scope
from core.errors import ValidationError
from jobs.cli import main_guard


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--email", required=True)
    parser.add_argument("--role", required=True, help="admin, staff, manager or analyst")
    parser.add_argument("--name", help="display name (default: the part before @)")
    parser.add_argument("--language", default="de", choices=["de", "en"])
    parser.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    args = parser.parse_args()
    auth.parse_role(args.role)  # fail on a wrong role before asking for a password
    password = read_password(from_stdin=args.password_stdin)
    with session_scope() as session:
        user = auth.create_user(session, email=args.email, role=args.role, password=password,
                                display_name=args.name, language=args.language, actor="cli:create_user")  # fmt: skip
        print(f"created {user.role.value} {user.email} (id {user.id})")
    return 0


def read_password(*, from_stdin: bool) -> str:
    """Return the password from PASSWORD, stdin (``from_stdin``) or the terminal; raise ValidationError if none."""
    password = os.environ.get("PASSWORD")
    if password is not None:
        return password
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ValidationError("--password-stdin read no password: stdin was empty; nothing was saved",
                                  field="password")  # fmt: skip
        return line
    if not sys.stdin.isatty():
        raise ValidationError(
            "No terminal to ask for the password; set PASSWORD=... in the environment or pipe it in with "
            "--password-stdin, e.g. printf '%s\\n' \"$PW\" | python -m jobs.create_user --email ... --password-stdin; "
            "nothing was saved",
            field="password",
        )
    password = getpass.getpass("Password (at least 12 characters): ")
    if password != getpass.getpass("Repeat password: "):
        raise ValidationError("The two passwords differ; nothing was saved", field="password")
    return password


if __name__ == "__main__":
    main_guard(main)
