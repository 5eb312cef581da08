"""Create a staff user: ``python -m jobs.create_user --email anna@example.org --role staff``.

The password is read from the PASSWORD environment variable or asked for interactively (never a
command-line argument, which would end up in shell history). Roles: admin, staff, manager, analyst.
"""

from __future__ import annotations

import argparse
import getpass
import os

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
    args = parser.parse_args()
    auth.parse_role(args.role)  # fail on a wrong role before asking for a password
    password = os.environ.get("PASSWORD")
    if password is None:
        password = getpass.getpass("Password (at least 12 characters): ")
        if password != getpass.getpass("Repeat password: "):
            raise ValidationError("The two passwords differ; nothing was saved", field="password")
    with session_scope() as session:
        user = auth.create_user(session, email=args.email, role=args.role, password=password,
                                display_name=args.name, language=args.language, actor="cli:create_user")  # fmt: skip
        print(f"created {user.role.value} {user.email} (id {user.id})")
    return 0


if __name__ == "__main__":
    main_guard(main)
