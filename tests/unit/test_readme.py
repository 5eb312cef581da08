"""The README's settings table lists exactly the settings the code reads."""

import re

from core.config import Settings


def test_readme__settings_table_lists_every_setting(repo_root):
    readme = (repo_root / "README.md").read_text()
    listed = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))
    assert listed == {name.upper() for name in Settings.model_fields}


def test_readme__screenshot_exists(repo_root):
    readme = (repo_root / "README.md").read_text()
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme):
        assert (repo_root / image).is_file(), image
