"""Every error core raises for a person carries a message code, so the UI can say it in German.

An AST scan of core/: a ``raise SomeError("...")`` or ``raise SomeError(f"...")`` (any error of the
core/errors.py tree) with English text instead of a ``core.messages.Message`` is a sentence the German UI
would show in English. The developer-facing packages are left out on purpose: core/demo and core/simulation
(demo data and the simulator speak to developers, in English), and the operator-facing modules below,
whose errors are read in a terminal or a log before any user or language exists.
"""

from __future__ import annotations

import ast
from pathlib import Path

ERRORS_MODULE = "core/errors.py"
DEVELOPER_PACKAGES = ("core/demo/", "core/simulation/")
# Operator-facing: settings read at start, the database and mail servers, backups, the warehouse build,
# the event relay, the live 116117 client and the job registry report to whoever runs the process, in its log.
OPERATOR_MODULES = {
    "core/config.py",
    "core/auth/sessions.py",
    "core/db/embedded.py",
    "core/directory_client.py",
    "core/events/relay.py",
    "core/operations/backup.py",
    "core/operations/registry.py",
    "core/operations/schedule.py",
    "core/warehouse/build.py",
    "core/warehouse/extract.py",
    "core/warehouse/read.py",
}


def error_names(core: Path) -> set[str]:
    """Return the names of every exception class of the workbench tree (core/errors.py and subclasses)."""
    bases: dict[str, set[str]] = {}
    for path in core.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(
                    base.id if isinstance(base, ast.Name) else getattr(base, "attr", "") for base in node.bases
                )
    names = {"WorkbenchError"}
    grew = True
    while grew:
        grew = False
        for name, parents in bases.items():
            if name not in names and parents & names:
                names.add(name)
                grew = True
    return names


def is_english_text(node: ast.expr) -> bool:
    """True for a str literal, an f-string, a "..." % x, "..." + x or "...".format(...) expression."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return is_english_text(node.left) or is_english_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return is_english_text(node.func.value)
    return False


def messages_without_code(repo_root: Path) -> list[str]:
    core = repo_root / "core"
    errors = error_names(core)
    found = []
    for path in sorted(core.rglob("*.py")):
        relative = path.relative_to(repo_root).as_posix()
        if relative == ERRORS_MODULE or relative in OPERATOR_MODULES or relative.startswith(DEVELOPER_PACKAGES):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name in errors and node.exc.args and is_english_text(node.exc.args[0]):
                found.append(f"{relative}:{node.lineno} raise {name}({ast.unparse(node.exc.args[0])[:60]})")
    return found


def test_scan__finds_an_english_error_message(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "errors.py").write_text(
        "class WorkbenchError(Exception): ...\nclass NotFound(WorkbenchError): ...\n"
    )
    (tmp_path / "core" / "thing.py").write_text(
        "from core.errors import NotFound\n"
        "class Gone(NotFound): ...\n"
        "def get(id):\n"
        "    raise Gone(f'Thing {id} does not exist')\n"
        "def other(id):\n"
        "    raise NotFound(Message('thing.not_found', 'Thing {id} does not exist', id=id))\n"
        "def bug():\n"
        "    raise ValueError('a programming error, not a message for a person')\n"
    )
    assert messages_without_code(tmp_path) == ["core/thing.py:4 raise Gone(f'Thing {id} does not exist')"]


def test_core__every_error_for_a_person_carries_a_message_code(repo_root):
    assert messages_without_code(repo_root) == []
