"""Start and stop ``make run`` the way a user does (a terminal's Ctrl-C goes to the whole process group)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil


class RunningStack:
    def __init__(self, repo_root: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"VENV={sys.prefix}"],
            cwd=repo_root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True,  # its own process group, like a shell job
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.data_dir = Path(env["DATA_DIR"])

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_ready(self, timeout: float) -> float:
        """Wait until the stack prints that it is ready; return the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if any(line.startswith("ready at") for line in self.lines):
                return time.monotonic() - started
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"make run was not ready after {timeout}s:\n{self.output}")

    def login(self) -> tuple[str, str]:
        match = re.search(r"Login: (\S+) / (\S+)", self.output)
        assert match, self.output
        return match.group(1), match.group(2)

    def pids(self) -> dict[str, int]:
        return json.loads((self.data_dir / "run.json").read_text())

    def interrupt(self, timeout: float = 60) -> int:
        """Press Ctrl-C: SIGINT to the whole foreground process group; return make's exit code."""
        os.killpg(self.proc.pid, signal.SIGINT)
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """Last-resort clean-up after a failed test: kill the group, then stop an orphaned embedded server."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)
        if (self.data_dir / "postgres" / "postmaster.pid").exists():
            from core.db import embedded

            embedded.stop(self.data_dir)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
