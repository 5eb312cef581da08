"""The embedded PostgreSQL as processes use it: a hand-run job starts and stops it, make run owns it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter, as a job started by hand would."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )


def server_running(data_dir: Path) -> bool:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return False
    pid = int(pid_file.read_text().splitlines()[0])
    return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "data"
    yield path
    if server_running(path):
        from core.db import embedded

        embedded.stop(path)


def test_hand_run_job__stops_the_server_it_started_despite_stale_handles(data_dir):
    job = f"""
        from pathlib import Path
        from core.db import embedded
        embedded.start(Path({str(data_dir)!r}))
    """
    first = run_python(job)
    assert first.returncode == 0, first.stderr
    assert not server_running(data_dir)
    # a runner killed with SIGKILL never removed its pid from the wheel's handle file
    (data_dir / "postgres" / ".handle_pids.json").write_text(json.dumps([dead_pid()]))

    second = run_python(job)

    assert second.returncode == 0, second.stderr
    assert not server_running(data_dir), "the job left a PostgreSQL running"


def test_stop__ends_the_owner_without_a_traceback(data_dir):
    owner = run_python(f"""
        from pathlib import Path
        from core.db import embedded
        embedded.start(Path({str(data_dir)!r}), stop_at_exit=False)
        embedded.stop(Path({str(data_dir)!r}))
        print("stopped")
    """)
    assert owner.returncode == 0
    assert "Traceback" not in owner.stderr, owner.stderr
    assert owner.stdout.strip() == "stopped"
    assert not server_running(data_dir)


def test_start__joined_server_stays_up_while_its_owner_holds_it(data_dir):
    from core.db import embedded

    embedded.start(data_dir, stop_at_exit=False)  # like make run: the owner stops it explicitly
    job = run_python(f"""
        from pathlib import Path
        from core.db import embedded
        embedded.start(Path({str(data_dir)!r}))
    """)
    assert job.returncode == 0, job.stderr
    assert server_running(data_dir), "a job stopped the server that make run still uses"
    embedded.stop(data_dir)
    assert not server_running(data_dir)


def test_start__keeps_the_data_dir_private_to_the_service_user(data_dir):
    from core.db import embedded

    embedded.start(data_dir, stop_at_exit=False)
    try:
        assert data_dir.stat().st_mode & 0o777 == 0o700
    finally:
        embedded.stop(data_dir)
