"""One sticky PR comment per gate, found again by a hidden marker and edited in place."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .api import GitHub, GitHubError, split_repository

COMMENT_LIMIT = 65_536
"""Characters: GitHub refuses a longer comment body."""
_KEY = re.compile(r"[A-Za-z0-9._/-]{1,100}")


def marker(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ConfigError(f"`comment-key`={key!r} must be 1–100 of A–Z a–z 0–9 . _ / -")
    return f"<!-- mlgate:sticky:{key} -->"


def body(markdown: str, key: str) -> str:
    head = marker(key) + "\n"
    text = head + markdown
    if len(text) > COMMENT_LIMIT:
        note = (
            "\n\n> **Cut to fit GitHub's comment limit.** The job summary and the report hold everything.\n"
        )
        text = text[: COMMENT_LIMIT - len(note)] + note
    return text


@dataclass(frozen=True)
class Posted:
    action: str  # "created" or "updated"
    comment_id: int
    url: str

    def __str__(self) -> str:
        return f"{self.action} comment {self.comment_id}: {self.url}"


def upsert(client: GitHub, repository: str, number: int, text: str, key: str) -> Posted:
    """Create the comment, or edit the one whose body starts with this key's marker.

    Only a body that *starts* with the marker counts, so a reply that quotes the
    comment is never taken for it. Of several (a race between two runs), the
    oldest is edited, so every later run converges on the same one.
    """
    owner, repo = split_repository(repository)
    sign = marker(key)
    existing = [
        c
        for c in client.paginate(f"/repos/{owner}/{repo}/issues/{number}/comments")
        if isinstance(c, dict) and str(c.get("body") or "").startswith(sign)
    ]
    if existing:
        oldest = min(existing, key=lambda c: int(c["id"]))
        answer = client.request(
            "PATCH", f"/repos/{owner}/{repo}/issues/comments/{int(oldest['id'])}", {"body": text}
        )
        return Posted("updated", int(answer["id"]), str(answer.get("html_url", "")))
    answer = client.request("POST", f"/repos/{owner}/{repo}/issues/{number}/comments", {"body": text})
    return Posted("created", int(answer["id"]), str(answer.get("html_url", "")))


def check_head(client: GitHub, repository: str, number: int, head_sha: str) -> None:
    """Refuse to comment on a PR whose head is not the commit that was gated.

    In the ``workflow_run`` pattern the PR number comes from an artifact that the
    untrusted PR job wrote; this is what stops it from steering the comment to
    some other pull request.
    """
    owner, repo = split_repository(repository)
    pull = client.request("GET", f"/repos/{owner}/{repo}/pulls/{number}")
    actual = str((pull.get("head") or {}).get("sha", "")) if isinstance(pull, dict) else ""
    if actual.lower() != head_sha.lower():
        raise GitHubError(
            f"pull request #{number} is at {actual[:12] or '?'}, not the gated commit {head_sha[:12]}: "
            "refusing to comment (the PR number in the artifact does not match the run)"
        )


def pull_request_number(given: int | None, event_path: str | None = None) -> int:
    """``--pr`` if given, else the number in the triggering event's payload."""
    if given is not None:
        if given < 1:
            raise ConfigError(f"`pull-request`={given} must be a positive PR number")
        return given
    path = event_path or os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        raise ConfigError("`pull-request` must be given: no $GITHUB_EVENT_PATH names the triggering event")
    try:
        event: Mapping[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"`GITHUB_EVENT_PATH`={path!r} must be a readable JSON event: {exc}") from None
    number = (event.get("pull_request") or {}).get("number") or (
        (event.get("issue") or {}).get("pull_request") and (event.get("issue") or {}).get("number")
    )
    if not isinstance(number, int) or number < 1:
        raise ConfigError(
            f"`pull-request` must be given: the event in {path} is not a pull request (no pull_request.number)"
        )
    return number


def dispatch(client: GitHub, repository: str, event_type: str, payload: Mapping[str, Any]) -> None:
    if not re.fullmatch(r"[A-Za-z0-9._:-]{1,100}", event_type):
        raise ConfigError(f"`dispatch-event-type`={event_type!r} must be 1–100 of A–Z a–z 0–9 . _ : -")
    if len(payload) > 10:
        raise ConfigError(f"`client_payload` has {len(payload)} keys; GitHub allows at most 10")
    owner, repo = split_repository(repository)
    client.request(
        "POST",
        f"/repos/{owner}/{repo}/dispatches",
        {"event_type": event_type, "client_payload": dict(payload)},
    )
