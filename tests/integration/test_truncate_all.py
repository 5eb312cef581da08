"""The test database is emptied even when another session still holds locks (a failed test's leftovers)."""

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import tests.conftest as fixtures
from core.auth import service as auth

PASSWORD = "ein langes Testpasswort 4711"


def test_truncate_all__ends_a_session_that_holds_locks_and_empties_the_tables(committed_db, monkeypatch, capfd):
    monkeypatch.setattr(fixtures, "LOCK_WAIT", "1s")  # the real wait is 15 s; the behaviour is the same
    with Session(committed_db) as session:
        auth.create_user(session, email="sam@example.org", role="staff", password=PASSWORD, display_name="Sam")
        session.commit()
    lingering = committed_db.connect()
    lingering.begin()
    lingering.execute(text("SELECT count(*) FROM staff_user"))  # holds its lock until the transaction ends

    fixtures.truncate_all(committed_db)

    with committed_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM staff_user")).scalar_one() == 0
    assert "ended session" in capfd.readouterr().err
    try:
        lingering.execute(text("SELECT 1"))
        raise AssertionError("the lingering session should have been ended")
    except OperationalError:
        pass
    finally:
        lingering.invalidate()
        lingering.close()
