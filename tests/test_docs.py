"""The architecture page and the README's layout name what is really there: a package added
without a word in docs/architecture.md, or a top-level folder missing from the README, fails
here rather than leaving a newcomer with a stale map (in the spirit of datasette's doc tests)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _packages() -> list[str]:
    """Every package under hub/, as a path relative to the repository (``hub/api/routes``)."""
    return sorted(
        str(p.parent.relative_to(ROOT)) for p in (ROOT / "hub").rglob("__init__.py") if p.parent != ROOT / "hub"
    )


def test_every_hub_package_is_named_in_the_architecture_page() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [p for p in _packages() if f"{p}/" not in text and p.replace("/", ".") not in text]
    assert not missing, f"packages not named in docs/architecture.md: {missing}"


def _top_level_folders() -> set[str]:
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return {f.split("/", 1)[0] for f in files if "/" in f and not f.startswith(".")}


def test_the_readme_layout_lists_the_top_level_folders() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Layout\n(.*?)^## ", readme, re.S | re.M)
    assert section, "README.md has no '## Layout' section"
    listed = set(re.findall(r"^([a-z][\w.-]*)/ ", section.group(1), re.M))
    folders = _top_level_folders()
    assert folders <= listed, f"top-level folders missing from the README layout: {sorted(folders - listed)}"
    assert listed <= folders, f"the README layout lists folders that do not exist: {sorted(listed - folders)}"
