"""Cut the endpoints the Actions use out of GitHub's OpenAPI description.

GitHub publishes the description in the npm package ``@octokit/openapi``
(``generated/api.github.com.json``, 13 MB inside a 29 MB tarball). The tests need
only a handful of operations, so this script writes them, with every component
they reference, to ``openapi-subset.json`` and records where they came from.

    python tests/github_api/extract_openapi.py            # runs `npm pack` in a temp dir
    python tests/github_api/extract_openapi.py PKG.tgz    # or reads a tarball you have
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/openapi"
VERSION = "23.0.2"
MEMBER = "package/generated/api.github.com.json"
OPERATIONS = {
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ("get", "post"),
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ("patch",),
    "/repos/{owner}/{repo}/dispatches": ("post",),
    "/repos/{owner}/{repo}/pulls/{pull_number}": ("get",),
}
OUT = Path(__file__).with_name("openapi-subset.json")


def _tarball(argv: list[str], workdir: Path) -> Path:
    if argv:
        return Path(argv[0])
    subprocess.run(["npm", "pack", f"{PACKAGE}@{VERSION}", "--silent"], cwd=workdir, check=True)
    return next(workdir.glob("*.tgz"))


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.add(node["$ref"])
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _strip_examples(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_examples(v) for k, v in node.items() if k not in ("examples", "example")}
    if isinstance(node, list):
        return [_strip_examples(v) for v in node]
    return node


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tgz = _tarball(argv, Path(tmp))
        raw = tgz.read_bytes()
        with tarfile.open(tgz) as archive:
            member = archive.extractfile(MEMBER)
            assert member is not None, f"{tgz} has no {MEMBER}"
            spec = json.load(member)
    paths = {
        path: {m: _strip_examples(spec["paths"][path][m]) for m in methods}
        for path, methods in OPERATIONS.items()
    }
    components: dict[str, dict[str, Any]] = {}
    pending = _refs(paths)
    while pending:
        ref = pending.pop()
        _, _, section, name = ref.split("/", 3)
        if name in components.get(section, {}):
            continue
        target = _strip_examples(spec["components"][section][name])
        components.setdefault(section, {})[name] = target
        pending |= _refs(target)
    subset = {
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "x-source": {
            "package": PACKAGE,
            "version": VERSION,
            "file": MEMBER.removeprefix("package/"),
            "tarball_sha256": hashlib.sha256(raw).hexdigest(),
        },
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }
    OUT.write_text(json.dumps(subset, indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes) from {PACKAGE}@{VERSION}")


if __name__ == "__main__":
    main(sys.argv[1:])
