"""A DVC repository's files as `dvc add` writes them, for the lineage tests of every gate."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

DVC_CONFIG = """\
[core]
    remote = storage
['remote "storage"']
    url = s3://user:secret@bucket/dvc-store
['remote "backup"']
    url = /mnt/backup/dvc
"""


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


def dvc_repository(root: Path) -> Path:
    """``root`` as a DVC repository: a `.dvc/config` whose default remote is `storage`."""
    (root / ".dvc").mkdir(exist_ok=True)
    (root / ".dvc" / "config").write_text(DVC_CONFIG, encoding="utf-8")
    return root


def dvc_file(path: Path, md5: str | None = None, size: int | None = None, **extra: Any) -> Path:
    """A `.dvc` file in the format `dvc add` writes (DVC 3: `hash: md5`)."""
    out = {
        "md5": md5 or md5_of(path),
        "size": path.stat().st_size if size is None else size,
        "hash": "md5",
        "path": path.name,
    }
    lines = [
        "outs:",
        *(f"{'- ' if i == 0 else '  '}{k}: {v}" for i, (k, v) in enumerate({**out, **extra}.items())),
    ]
    target = path.with_name(path.name + ".dvc")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target
