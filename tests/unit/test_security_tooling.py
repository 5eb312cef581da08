"""The security checks: ruff's bandit rules run in `make test` without blanket ignores; `make audit` fails loudly."""

from __future__ import annotations

import os
import subprocess
import tomllib

import pytest

pytestmark = pytest.mark.slow


def test_ruff__security_rules_are_on_with_no_project_wide_exception(repo_root):
    lint = tomllib.loads((repo_root / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    assert "S" in lint["select"]
    assert [code for code in lint["ignore"] if code.startswith("S")] == []
    outside_tests = {path: codes for path, codes in lint["per-file-ignores"].items() if not path.startswith("tests")}
    assert [c for codes in outside_tests.values() for c in codes if c.startswith("S")] == []
    assert "$(PYTHON) -m ruff check ." in (repo_root / "Makefile").read_text().split("\ntest:")[1].split("\n\n")[0]


def fake_python(tmp_path, *, exit_code: int, output: str):
    """A stand-in interpreter for `make audit`: prints what pip-audit would and exits with its code."""
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\necho \"called with: $*\" >&2\necho '{output}' >&2\nexit {exit_code}\n")
    script.chmod(0o755)
    stamp = tmp_path / "installed"
    stamp.touch()  # the install steps count as done: only the audit itself runs
    return ["make", "--no-print-directory", "audit", f"PYTHON={script}", f"DEV_STAMP={stamp}", f"RUNTIME_STAMP={stamp}"]


def test_make_audit__fails_loudly_without_a_network(repo_root, tmp_path):
    command = fake_python(tmp_path, exit_code=1, output="ConnectionError: Failed to establish a new connection")
    result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, timeout=60, env={**os.environ})
    assert result.returncode != 0
    assert "could not reach the vulnerability service (no network?)" in result.stderr
    assert "ConnectionError" in result.stderr
    assert "called with: -m pip_audit --strict" in result.stderr


def test_make_audit__passes_when_pip_audit_passes(repo_root, tmp_path):
    command = fake_python(tmp_path, exit_code=0, output="No known vulnerabilities found")
    result = subprocess.run(command, cwd=repo_root, capture_output=True, text=True, timeout=60, env={**os.environ})
    assert result.returncode == 0, result.stderr
