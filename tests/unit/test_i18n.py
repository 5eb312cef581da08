"""The German and English catalogs stay complete: every key in both, every key used in code exists."""

import re
from pathlib import Path

from dashboards.i18n import CATALOG

KEY_USE = re.compile(r"""\bt\(\s*["']([a-z_.]+)["']""")


def test_catalogs__have_the_same_keys():
    assert set(CATALOG["de"]) == set(CATALOG["en"])


def test_catalogs__no_empty_texts():
    assert all(text.strip() for lang in CATALOG.values() for text in lang.values())


def test_every_key_used_in_dashboards_exists(repo_root: Path):
    used = set()
    for path in (repo_root / "dashboards").rglob("*.py"):
        used |= set(KEY_USE.findall(path.read_text()))
    assert used, "the scan found no t('...') calls; the pattern is broken"
    assert used - set(CATALOG["de"]) == set()


def test_every_registered_job_has_a_description_in_both_languages():
    from core.operations import registry

    for job in registry.get_all():
        if job.target.startswith("tests."):  # jobs that only tests register (tests/support/sleepy_job.py)
            continue
        assert f"job.{job.name}" in CATALOG["de"], job.name
        assert f"job.{job.name}" in CATALOG["en"], job.name
