"""core.db.models is the one registry of mapped classes: a model module outside it would be imported late,
by whichever job thread needs it first, and a thread that configures the mappers meanwhile breaks them all."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import importlib, pkgutil
    import core, core.db.models
    from core.db.base import Base

    def mapped():
        return {f"{m.class_.__module__}.{m.class_.__name__}" for m in Base.registry.mappers}

    registered = mapped()
    for info in pkgutil.walk_packages(core.__path__, "core."):
        if not info.name.startswith("core.db.migrations"):  # importing env.py would run the migrations
            importlib.import_module(info.name)
    print("\\n".join(sorted(mapped() - registered)))
    """
)


def test_model_registry__imports_every_mapped_class_of_core(repo_root):
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=repo_root, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [], "mapped outside core/db/models.py; import them there"
