"""At most one request per interval to an outside service, across every process and machine.

Each request first reserves a slot in PostgreSQL: under a transaction-level advisory lock it reads when
the service was last asked (``rate_limit_slot``), sleeps until the interval has passed, stores the new
time and commits, which releases the lock. All times come from the database clock, so machines with
skewed clocks still agree. Transaction-level, not session-level, so PgBouncer's transaction pooling
cannot strand the lock on a pooled connection.

Example:
    reserve_slot(engine, service="nominatim", interval=NOMINATIM_INTERVAL)   # returns seconds waited
    ... send the request right away ...
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

LOCK_NAMESPACE = 7_245  # first key of the two-key advisory lock: "rate-limited outside services"
# Nominatim's usage policy allows an absolute maximum of 1 request per second; the extra 0.1 s absorbs
# the moment between reserving the slot and the request leaving this machine.
NOMINATIM_INTERVAL = timedelta(seconds=1.1)


def engine_of(session: Session) -> Engine:
    """Return the engine behind a session (also when the session is bound to a single connection)."""
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind


def _lock_key(service: str) -> int:
    return zlib.crc32(service.encode()) & 0x7FFFFFFF


def reserve_slot(
    engine: Engine, *, service: str, interval: timedelta, sleep: Callable[[float], None] = time.sleep
) -> float:
    """Wait until ``service`` may be asked again, claim the slot for this caller; return the seconds waited."""
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": _lock_key(service)})
        wait = conn.execute(
            text(
                "SELECT EXTRACT(EPOCH FROM (last_request_at + make_interval(secs => :interval)) - clock_timestamp())"
                " FROM rate_limit_slot WHERE service = :service"
            ),
            {"service": service, "interval": interval.total_seconds()},
        ).scalar()
        waited = max(0.0, float(wait or 0.0))
        if waited > 0:
            sleep(waited)
        conn.execute(
            text(
                "INSERT INTO rate_limit_slot (service, last_request_at) VALUES (:service, clock_timestamp())"
                " ON CONFLICT (service) DO UPDATE SET last_request_at = GREATEST("
                " rate_limit_slot.last_request_at, EXCLUDED.last_request_at)"
            ),
            {"service": service},
        )
    return waited


def hold_off(engine: Engine, *, service: str, seconds: float, interval: timedelta) -> None:
    """Keep every process from asking ``service`` for ``seconds`` (e.g. after a 429 with Retry-After)."""
    with engine.connect() as conn, conn.begin():
        conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :key)"), {"ns": LOCK_NAMESPACE, "key": _lock_key(service)})
        # the next slot opens ``interval`` after last_request_at, so move that to (now + seconds - interval)
        conn.execute(
            text(
                "INSERT INTO rate_limit_slot (service, last_request_at)"
                " VALUES (:service, clock_timestamp() + make_interval(secs => :shift))"
                " ON CONFLICT (service) DO UPDATE SET last_request_at = GREATEST("
                " rate_limit_slot.last_request_at, EXCLUDED.last_request_at)"
            ),
            {"service": service, "shift": seconds - interval.total_seconds()},
        )
