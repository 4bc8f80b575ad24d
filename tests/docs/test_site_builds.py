"""The documentation site builds with `mkdocs build --strict`: every page in the nav, every
internal link and every anchor it names found (mkdocs.yml's `validation:`); the README's links
into docs/ land on pages and anchors that exist."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.docblocks import REPO

_README_LINK = re.compile(r"\]\((docs/[^)#\s]+\.md)(?:#([^)\s]+))?\)")


def _require_mkdocs() -> None:
    missing = [name for name in ("mkdocs", "material") if importlib.util.find_spec(name) is None]
    if not missing:
        return
    reason = f"{', '.join(missing)} not installed: pip install -e '.[docs]' (or scripts/docs build)"
    if os.environ.get("SUPERVISOR_REQUIRE_OPENSTACK"):  # CI: .ci/run installs the docs extra
        pytest.fail(f"SUPERVISOR_REQUIRE_OPENSTACK is set but {reason}")
    pytest.skip(reason)


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_mkdocs()
    built = tmp_path_factory.mktemp("site")
    result = build(REPO / "mkdocs.yml", built)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-6000:]}"
    assert "WARNING" not in result.stderr, result.stderr
    return built


def test_the_site_builds_strictly(site: Path):
    assert (site / "index.html").is_file()
    assert (site / "tutorial" / "index.html").is_file()


def test_a_broken_anchor_fails_the_build(tmp_path: Path):
    """The strict build checks anchors, not only pages: mkdocs.yml's `validation:` says so."""
    _require_mkdocs()
    copy = tmp_path / "copy"
    shutil.copytree(REPO / "docs", copy / "docs")
    shutil.copy(REPO / "mkdocs.yml", copy / "mkdocs.yml")
    page = copy / "docs" / "reference" / "events.md"
    page.write_text(page.read_text() + "\nSee [logs](../guides/logs.md#no-such-heading).\n")
    result = build(copy / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert "no-such-heading" in result.stderr, result.stderr


def _page_html(site: Path, page: str) -> Path:
    """Where mkdocs writes docs/<page>: guides/logs.md is guides/logs/index.html."""
    relative = Path(page).relative_to("docs")
    if relative.name == "index.md":
        return site / relative.parent / "index.html"
    return site / relative.with_suffix("") / "index.html"


def test_the_readme_links_land_on_pages_and_anchors(site: Path):
    links = _README_LINK.findall((REPO / "README.md").read_text())
    assert links, "the README links into docs/"
    for page, anchor in links:
        assert (REPO / page).is_file(), f"README links to {page}, which does not exist"
        if anchor:
            html = _page_html(site, page).read_text()
            assert f'id="{anchor}"' in html, f"README links to {page}#{anchor}: no such anchor"
