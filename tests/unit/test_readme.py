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


def test_readme__links_point_to_files_in_the_repository(repo_root):
    readme = (repo_root / "README.md").read_text()
    targets = [t for t in re.findall(r"\]\(([^)#]+)\)", readme) if not t.startswith(("http://", "https://"))]
    assert targets, "the README links to docs/architecture.md at least"
    for target in targets:
        assert (repo_root / target).is_file(), f"README links to {target}, which is not in the repository"


def test_readme__names_no_file_outside_the_repository(repo_root):
    readme = (repo_root / "README.md").read_text()
    for outside in ("DESIGN.md", "HOUSE.md"):
        assert outside not in readme, "the repository must explain itself"
