"""Imports inside core run one way (DESIGN.md 2): a package used by another does not import it back."""

from __future__ import annotations

import json
import subprocess
import sys

LOADED = "import json, sys, {module}; print(json.dumps(sorted(m for m in sys.modules if m.startswith({prefix!r}))))"


def loaded(repo_root, module: str, *, package: str) -> list[str]:
    """The modules of ``package`` a fresh interpreter has loaded after importing ``module`` alone."""
    code = LOADED.format(module=module, prefix=f"{package}.")
    result = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def test_drafts__load_without_core_auth_whose_sessions_discard_them_when_a_login_ends(repo_root):
    assert "core.drafts.service" in loaded(repo_root, "core.auth.sessions", package="core.drafts")
    assert loaded(repo_root, "core.drafts.service", package="core.auth") == []  # no way back: no cycle
