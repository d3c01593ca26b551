"""What a step tells the runner: annotations, outputs and the job summary.

Escaping follows the runner's parser (and ``@actions/core``): in a command's
message ``%``, CR and LF are percent-encoded; in a property ``:`` and ``,`` too.
So no value, however hostile, can end a line and start a command of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError

ANNOTATION_LIMIT = 10
"""Per level. GitHub shows at most 10 of each per step, so we choose which 10."""
SUMMARY_LIMIT = 1024 * 1024
"""Bytes. GitHub refuses a step summary above 1 MiB."""

_LEVEL = {"fail": "error", "error": "error", "warn": "warning", "inconclusive": "warning"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **properties: str | None) -> str:
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items() if value)
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def annotation_lines(report: Mapping[str, Any], *, file: str | None = None) -> list[str]:
    """``::error``/``::warning`` lines for the checks that did not pass, at most 10 of each.

    Errors come first, then failures, then warnings; when a level has more than
    ten, the tenth line says how many more there are and where to read them.
    """
    by_level: dict[str, list[Mapping[str, Any]]] = {"error": [], "warning": []}
    order = {"error": 0, "fail": 1, "warn": 2, "inconclusive": 3}
    for check in sorted(report.get("checks", []), key=lambda c: order.get(c.get("status"), 9)):
        level = _LEVEL.get(check.get("status", ""))
        if level:
            by_level[level].append(check)
    lines = []
    for level, checks in by_level.items():
        shown = checks if len(checks) <= ANNOTATION_LIMIT else checks[: ANNOTATION_LIMIT - 1]
        for check in shown:
            title = f"mlgate {str(check.get('status', '')).upper()}: {check.get('id', '?')}"
            lines.append(command(level, str(check.get("message", "")), title=title, file=file))
        if len(shown) < len(checks):
            more = len(checks) - len(shown)
            lines.append(
                command(
                    level, f"{more} more {level}s: the job summary and the report list them all", file=file
                )
            )
    return lines


def write_outputs(path: Path, values: Mapping[str, str]) -> None:
    """Append ``name<<DELIMITER`` blocks, as the runner reads them, with a delimiter no value holds."""
    with path.open("a", encoding="utf-8") as out:
        for name, value in values.items():
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            if delimiter in value:  # vanishingly unlikely, but never write an ambiguous file
                raise ConfigError(f"`{name}` output holds its own delimiter; refusing to write it")
            out.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def write_summary(path: Path, markdown: str, limit: int = SUMMARY_LIMIT) -> bool:
    """Append ``markdown`` to the step summary, cut to fit GitHub's cap; True when it was cut."""
    existing = path.stat().st_size if path.exists() else 0
    room = limit - existing
    data = markdown.encode("utf-8")
    cut = len(data) > room
    if cut:
        note = b"\n\n> **Cut to fit GitHub's 1 MiB summary limit.** The JSON report holds everything.\n"
        data = data[: max(0, room - len(note))].decode("utf-8", errors="ignore").encode("utf-8") + note
    with path.open("ab") as out:
        out.write(data)
    return cut


def drift_detected(report: Mapping[str, Any]) -> bool:
    return any(c.get("kind") == "drift" and c.get("status") == "fail" for c in _checks(report))


def candidate_version(report: Mapping[str, Any]) -> str:
    identity = (report.get("provenance") or {}).get("candidate") or {}
    version = identity.get("version")
    return "" if version is None else str(version)


def _checks(report: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    checks = report.get("checks", [])
    return checks if isinstance(checks, list) else []
