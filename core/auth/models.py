"""Staff users who log in to the dashboards, their login sessions, failure counters and reset links."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, created_at_column, enum_column


class Role(enum.StrEnum):
    ADMIN = "admin"
    STAFF = "staff"
    MANAGER = "manager"
    ANALYST = "analyst"


class StaffUser(Base):
    __tablename__ = "staff_user"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    language: Mapped[str] = mapped_column(String(2), default="de")
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # set for accounts an admin created or reset: the next login must choose a new password first
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default="false")
    # the TOTP secret, encrypted with a key derived from SECRET_KEY (core.auth.sealing): a dump alone is useless
    totp_secret_sealed: Mapped[str | None] = mapped_column(Text)
    # the last 30-second time step whose code was accepted: a code works once, never replayed
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = created_at_column()
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


# Emails are unique regardless of case: "Anna@Example.org" and "anna@example.org" are one account.
Index("uq_staff_user_email_lower", func.lower(StaffUser.email), unique=True)


class LoginSession(Base):
    """One dashboard login, checked on every rerun; ended by logout, timeout, deactivation or role change.

    ``id`` is the SHA-256 of the random token the Streamlit session holds on the server, ``cookie_digest``
    the SHA-256 of the random token in the browser's HTTP-only cookie, ``handoff_digest`` the SHA-256 of the
    one-time code the logged-in page exchanges for that cookie (core.auth.sessions): the table alone lets
    nobody take over a session.
    """

    __tablename__ = "login_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))  # the role it was granted with
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    cookie_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    handoff_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Failed logins per address, known or not, so a lock never tells whether an account exists."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the lower-cased address
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PasswordReset(Base):
    """A one-time password reset link an admin handed out; ``id`` is the SHA-256 of the link's token."""

    __tablename__ = "password_reset"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
