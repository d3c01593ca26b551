"""The docs stay true: the config reference is the schema's, and every relative link resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_mlgate.cli import main

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"


def test_config_reference_is_generated_from_the_current_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "config", "--markdown"]) == 0
    generated = capsys.readouterr().out
    on_disk = (DOCS / "config-reference.md").read_text(encoding="utf-8")
    assert on_disk == generated, (
        "docs/config-reference.md is stale: run `mlgate schema config --markdown > docs/config-reference.md`"
    )


def test_live_config_reference_is_generated_from_the_current_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["schema", "live", "--markdown"]) == 0
    generated = capsys.readouterr().out
    on_disk = (DOCS / "live-config-reference.md").read_text(encoding="utf-8")
    assert on_disk == generated, (
        "docs/live-config-reference.md is stale: run `mlgate schema live --markdown > docs/live-config-reference.md`"
    )


def test_every_config_key_is_in_the_reference() -> None:
    from pytest_mlgate.config import json_schema

    text = (DOCS / "config-reference.md").read_text(encoding="utf-8")
    for key in json_schema()["properties"]:
        assert f"| `{key}` |" in text


@pytest.mark.parametrize("page", sorted([*DOCS.glob("*.md"), REPO / "README.md"]), ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"
