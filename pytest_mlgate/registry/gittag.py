"""The annotated git tag ``model/<name>/v<version>`` on the commit that was gated."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..errors import MlgateError


class GitError(MlgateError):
    """A git step of a promotion failed (exit 1); the registry part has already happened."""

    # Set when the failure came after the tag existed locally (the push), so the message can say so.
    tag: str | None = None
    created: bool | None = None


def tag_name(model: str, version: str) -> str:
    return f"model/{model}/v{version}"


def _git(
    repo: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=repo,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=env,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"git {args[0]} could not run in `{repo}`: {exc}") from None


def is_repository(path: Path) -> bool:
    return _git(path, "rev-parse", "--git-dir").returncode == 0


def create_tag(repo: Path, tag: str, commit: str, message: str) -> bool:
    """Create the annotated tag; True if it was created, False if it already marks this commit."""
    if _git(repo, "cat-file", "-e", f"{commit}^{{commit}}").returncode != 0:
        raise GitError(
            f"commit {commit[:12]} (the report's git sha) is not in the repository `{repo}`; "
            "fetch it, or promote from the checkout that was gated"
        )
    existing = _git(repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
    if existing.returncode == 0:
        if existing.stdout.strip() == _git(repo, "rev-parse", commit).stdout.strip():
            return False
        raise GitError(
            f"git tag `{tag}` already exists on {existing.stdout.strip()[:12]}, not on {commit[:12]}; "
            "a version is tagged once: delete the old tag if it is wrong"
        )
    env = dict(os.environ)
    if not _git(repo, "config", "user.email").stdout.strip():
        # An annotated tag needs a tagger; CI checkouts often have none configured.
        env.setdefault("GIT_COMMITTER_NAME", "mlgate")
        env.setdefault("GIT_COMMITTER_EMAIL", "mlgate@localhost")
    made = _git(repo, "tag", "--annotate", tag, commit, "--file", "-", env=env, stdin=message)
    if made.returncode != 0:
        raise GitError(f"git tag `{tag}` could not be created: {made.stderr.strip()}")
    return True


def push_tag(repo: Path, tag: str, remote: str) -> None:
    pushed = _git(repo, "push", remote, f"refs/tags/{tag}")
    if pushed.returncode != 0:
        lines = [line.strip() for line in pushed.stderr.splitlines() if line.strip()]
        # What the remote said (a hook's reason) and which ref it rejected say more than git's last line.
        said = [line for line in lines if line.startswith(("remote:", "!"))] or lines[-1:] or ["?"]
        raise GitError(f"git tag `{tag}` could not be pushed to `{remote}`: {'; '.join(said)[:500]}")
