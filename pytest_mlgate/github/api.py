"""A small client for the few GitHub REST endpoints the Actions use.

It talks to ``$GITHUB_API_URL`` (GitHub Enterprise and the tests' local server
set it), sends the documented media type and API version, follows ``Link``
pagination and turns every failure into a ``GitHubError`` that says which call
failed and what GitHub answered.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .. import __version__
from ..errors import ConfigError, DataError

API_VERSION = "2022-11-28"
TIMEOUT_S = 30.0
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubError(DataError):
    """A GitHub API call failed (exit 3): the message names the call and GitHub's answer."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHub:
    def __init__(self, token: str, api_url: str | None = None) -> None:
        if not token:
            raise GitHubError("`github-token` is empty: pass a token (the default is the job's GITHUB_TOKEN)")
        self.token = token
        base = api_url or os.environ.get("GITHUB_API_URL") or "https://api.github.com"
        self.api_url = base.rstrip("/")

    def request(self, method: str, path: str, body: Any = None, query: dict[str, Any] | None = None) -> Any:
        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return self._send(method, url, body)[0]

    def paginate(self, path: str, query: dict[str, Any] | None = None) -> list[Any]:
        url: str | None = (
            self.api_url + path + "?" + urllib.parse.urlencode({"per_page": 100, **(query or {})})
        )
        items: list[Any] = []
        while url:
            page, link = self._send("GET", url, None)
            if not isinstance(page, list):
                raise GitHubError(f"GET {path}: expected a list, GitHub answered {type(page).__name__}")
            items += page
            match = _NEXT.search(link or "")
            url = match.group(1) if match else None
        return items

    def _send(self, method: str, url: str, body: Any) -> tuple[Any, str | None]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method)
        request.add_header("Accept", "application/vnd.github+json")
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("X-GitHub-Api-Version", API_VERSION)
        request.add_header("User-Agent", f"pytest-mlgate/{__version__}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        where = f"{method} {urllib.parse.urlsplit(url).path}"
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                raw = response.read()
                link = response.headers.get("Link")
        except urllib.error.HTTPError as exc:
            detail = _message(exc.read())
            raise GitHubError(f"{where}: GitHub answered {exc.code}: {detail}", status=exc.code) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise GitHubError(f"{where}: could not reach {self.api_url}: {reason}") from None
        if not raw:
            return None, link
        try:
            return json.loads(raw), link
        except ValueError:
            raise GitHubError(f"{where}: GitHub's answer is not JSON") from None


def _message(raw: bytes) -> str:
    try:
        payload = json.loads(raw)
    except ValueError:
        return raw[:200].decode("utf-8", errors="replace") or "(no body)"
    if isinstance(payload, dict):
        return str(payload.get("message", payload))[:500]
    return str(payload)[:500]


def split_repository(value: str) -> tuple[str, str]:
    owner, _, repo = value.partition("/")
    if not owner or not repo or "/" in repo or not re.fullmatch(r"[A-Za-z0-9_.-]+", owner + repo):
        raise ConfigError(f"`repository`={value!r} must be OWNER/NAME")
    return owner, repo
