"""Which data the gate judged, as the data's own trackers name it: DVC hashes and MLflow datasets.

The report's sha256 says which bytes were read; these say which tracked
version they were. DVC's metadata (``X.dvc`` files and ``dvc.lock``) is read
with ``yaml.safe_load``, so DVC itself is not needed. Since DVC 3 (outputs
marked ``hash: md5``) a file's hash is the plain md5 of its bytes, so a file
can be checked against it here; a tracked folder's ``.dir`` hash is the md5 of
DVC's own listing of its files, and is recorded but not checked.

A mismatch (the file was changed after ``dvc add``, or ``dvc pull`` was not
run) is a warning, not a failure: the gate still judged the bytes it read, and
the report says which ones.
"""

from __future__ import annotations

import configparser
import hashlib
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MlgateWarning

if TYPE_CHECKING:
    from .config import GateConfig

_TEXT_SNIFF = 8192
"""DVC 2 read this much of a file to tell text (hashed with CRLF as LF) from binary."""


def add_lineage(config: GateConfig, provenance: dict[str, Any]) -> dict[str, Any]:
    """``provenance`` with the DVC records of the inputs (``dvc``) and each MLflow model's training datasets."""
    records = dvc_entries(config)
    if records:
        provenance["dvc"] = records
    for role in ("candidate", "baseline"):
        identity = provenance.get(role)
        datasets = training_datasets(identity, config.tracking_uri())
        if datasets is not None and isinstance(identity, dict):
            provenance[role] = {**identity, "datasets": datasets}
    warn(provenance)
    return provenance


def dvc_tags(provenance: Mapping[str, Any]) -> dict[str, str]:
    """MLflow tags for the gated version: each tracked input's DVC md5, remote and check."""
    tags = {}
    for record in provenance.get("dvc") or []:
        prefix = f"mlgate.dvc.{record.get('role')}"
        tags[f"{prefix}.md5"] = str(record.get("md5") or "unknown")
        tags[f"{prefix}.path"] = str(record.get("tracked_path") or record.get("path"))
        tags[f"{prefix}.status"] = str(record.get("status"))
        if record.get("remote"):
            url = record.get("remote_url")
            tags[f"{prefix}.remote"] = f"{record['remote']} ({url})" if url else str(record["remote"])
    return tags


def dvc_entries(config: GateConfig) -> list[dict[str, Any]]:
    """A record for each DVC-tracked input of the gate (evaluation data, drift reference and current)."""
    roles: dict[str, Path | None] = {"data": config.data.path}
    if config.drift is not None:
        roles["reference"] = config.drift.reference
        roles["drift_current"] = config.drift.current
    if config.validation is not None:
        roles["validation"] = getattr(config.validation, "data", None)
    return dvc_for(roles)


def dvc_for(roles: Mapping[str, Path | None]) -> list[dict[str, Any]]:
    """A record for each of these inputs (by role) that DVC tracks."""
    out = []
    for role, path in roles.items():
        if path is None:
            continue
        record = dvc_record(Path(path))
        if record is not None:
            out.append({"role": role, **record})
    return out


def warn(provenance: Mapping[str, Any]) -> None:
    for line in warnings_of(provenance):
        warnings.warn(MlgateWarning(line), stacklevel=3)


def dvc_record(path: Path) -> dict[str, Any] | None:
    """How DVC tracks ``path`` (a ``.dvc`` file or a ``dvc.lock`` stage), checked where it can be; else None."""
    path = path.resolve()
    root = _repository_root(path)
    found = _find(path, root)
    if found is None:
        return None
    source, out, tracked = found
    record: dict[str, Any] = {
        "path": str(path),
        "tracked_by": _relative(source, root),
        "tracked_path": _relative(tracked, root),
        "md5": None,
        "size": None,
        "hash": None,
        "remote": None,
        "remote_url": None,
        "status": "unreadable",
        "message": "",
    }
    if isinstance(out, str):  # the tracking file could not be read
        record["message"] = out
        return record
    raw = out.get("md5", out.get("checksum"))
    if raw is not None and not isinstance(raw, str):
        # An unquoted all-digit hash reads as a number in YAML, its leading zeros lost; DVC quotes it.
        record["message"] = f"`md5` in `{source.name}` is {raw!r}, not text: quote it"
        return record
    md5 = raw or ""
    size = out.get("size")
    record |= {
        "md5": md5 or None,
        "size": size if isinstance(size, int) and not isinstance(size, bool) else None,
        "hash": str(out.get("hash") or "md5 (DVC 2)"),
    }
    record |= _remote(root, out.get("remote"))
    record["status"], record["message"] = _verify(
        path, tracked, md5, record["size"], out.get("hash") == "md5"
    )
    return record


def warnings_of(provenance: Mapping[str, Any]) -> list[str]:
    """The lines a run should warn with: tracked data that is not what its tracker names."""
    lines = []
    for record in provenance.get("dvc") or []:
        if record.get("status") in ("mismatch", "unreadable"):
            lines.append(f"{record.get('role')} `{record.get('path')}`: {record.get('message')}")
    return lines


# --- finding the tracking entry ------------------------------------------------------------------


def _repository_root(path: Path) -> Path:
    """The DVC repository (the folder holding `.dvc/`), else the git checkout, else the file's folder."""
    for marker in (".dvc", ".git"):
        for folder in path.parents:
            if (folder / marker).is_dir():
                return folder
    return path.parent


def _find(path: Path, root: Path) -> tuple[Path, Mapping[str, Any] | str, Path] | None:
    """(tracking file, its output entry or why it cannot be read, the tracked path) for ``path``.

    The file's own ``X.dvc`` comes first, then a ``dvc.lock`` output, then a
    ``dvc.lock`` dependency (the hash a stage last ran on), then a tracked
    folder that holds the file.
    """
    folders = [path.parent, *[p for p in path.parent.parents if p == root or root in p.parents]]
    chain = [path, *[p for p in path.parents if p in folders and p != root]]
    for tracked in chain:
        dvc_file = tracked.with_name(tracked.name + ".dvc")
        if dvc_file.is_file():
            entry = _dvc_file_entry(dvc_file, tracked)
            if entry is not None:
                return dvc_file, entry, tracked
    for section in ("outs", "deps"):
        for folder in folders:
            lock = folder / "dvc.lock"
            if not lock.is_file():
                continue
            for tracked in chain:
                entry = _lock_entry(lock, tracked, section)
                if entry is not None:
                    return lock, entry, tracked
    return None


def _dvc_file_entry(dvc_file: Path, tracked: Path) -> Mapping[str, Any] | str | None:
    data = _yaml(dvc_file)
    if isinstance(data, str):
        return data
    outs = data.get("outs")
    if not isinstance(outs, list):
        return f"`{dvc_file.name}` has no `outs:` list, so it tracks nothing"
    for out in outs:
        if isinstance(out, Mapping) and _same(dvc_file.parent / str(out.get("path", "")), tracked):
            return out
    return None


def _lock_entry(lock: Path, tracked: Path, section: str) -> Mapping[str, Any] | str | None:
    data = _yaml(lock)
    if isinstance(data, str):
        return data
    # dvc.lock 2.0 keeps stages under `stages:`; the 1.0 format had them at the top.
    stages = data.get("stages") if "schema" in data else data
    if not isinstance(stages, Mapping):
        return None
    for stage in stages.values():
        if not isinstance(stage, Mapping):
            continue
        base = lock.parent / str(stage.get("wdir") or ".")
        for entry in stage.get(section) or []:
            if isinstance(entry, Mapping) and _same(base / str(entry.get("path", "")), tracked):
                return entry
    return None


def _yaml(path: Path) -> Mapping[str, Any] | str:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return f"`{path.name}` cannot be read as DVC metadata: {type(exc).__name__}: {exc}"
    if not isinstance(data, Mapping):
        return f"`{path.name}` is not DVC metadata: it holds {type(data).__name__}, not a mapping"
    return data


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


# --- the remote ----------------------------------------------------------------------------------


def _remote(root: Path, named: Any) -> dict[str, Any]:
    """The remote the data is pushed to: the output's own `remote:`, else `core.remote` of `.dvc/config`.

    Only the committed `.dvc/config` is read: `config.local` is where DVC keeps credentials.
    """
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(root / ".dvc" / "config", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return {"remote": str(named) if named else None, "remote_url": None}
    name = str(named) if named else parser.get("core", "remote", fallback=None)
    if not name:
        return {"remote": None, "remote_url": None}
    url = None
    for section in (f'remote "{name}"', f"'remote \"{name}\"'"):
        if parser.has_section(section):
            url = parser.get(section, "url", fallback=None)
    from .registry.connect import redact

    return {"remote": name, "remote_url": redact(url) if url else None}


# --- checking the bytes --------------------------------------------------------------------------


def _verify(path: Path, tracked: Path, md5: str, size: int | None, dvc3: bool) -> tuple[str, str]:
    if not md5:
        return "unreadable", "its DVC entry has no md5"
    if md5.endswith(".dir") or tracked != path:
        return (
            "not verified",
            f"tracked as part of the folder `{tracked.name}` (DVC hash {md5}); a folder's hash is not "
            "checked here (run `dvc status`)",
        )
    if not path.is_file():
        return "mismatch", f"the file is missing, but DVC tracks it as md5 {md5} (run `dvc pull`)"
    if size is not None and path.stat().st_size != size:
        return (
            "mismatch",
            f"{path.stat().st_size:,} bytes on disk, but DVC tracks {size:,} bytes (md5 {md5}): the data "
            "changed after `dvc add`/`dvc repro`, or `dvc pull`/`dvc checkout` was not run",
        )
    plain, lf = _md5s(path, both=not dvc3)
    if plain == md5:
        return "match", f"md5 {md5} matches the file"
    if lf == md5:
        # DVC 2 hashed text files with CRLF read as LF; outputs written by it carry no `hash: md5`.
        return "match", f"md5 {md5} matches the file with CRLF read as LF (DVC 2's hash of a text file)"
    return (
        "mismatch",
        f"the file's md5 is {plain}, but DVC tracks md5 {md5}: the data changed after "
        "`dvc add`/`dvc repro`, or `dvc pull`/`dvc checkout` was not run",
    )


def _md5s(path: Path, *, both: bool) -> tuple[str, str | None]:
    """The plain md5 and, for a DVC 2 entry of a text file, the md5 with CRLF read as LF."""
    plain = hashlib.md5(usedforsecurity=False)
    lf = hashlib.md5(usedforsecurity=False) if both else None
    pending = b""
    for i, block in enumerate(_blocks(path)):
        plain.update(block)
        if lf is None:
            continue
        if i == 0 and b"\x00" in block[:_TEXT_SNIFF]:
            lf = None  # binary: DVC 2 hashed the bytes as they are
            continue
        # A CR at the end of a block may start a CRLF that the next block ends.
        block = pending + block
        pending = b"\r" if block.endswith(b"\r") else b""
        lf.update((block[:-1] if pending else block).replace(b"\r\n", b"\n"))
    if lf is not None and pending:
        lf.update(pending)
    return plain.hexdigest(), None if lf is None else lf.hexdigest()


def _blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as fh:
        yield from iter(lambda: fh.read(1 << 20), b"")


# --- MLflow datasets -----------------------------------------------------------------------------


def training_datasets(
    identity: Mapping[str, Any] | None, tracking: str | None
) -> list[dict[str, Any]] | None:
    """The datasets the model's training run logged (``mlflow.log_input``), or None without a run."""
    if not identity or identity.get("kind") != "mlflow" or not identity.get("run_id") or not tracking:
        return None
    from .registry.connect import client, failure

    run_id = str(identity["run_id"])
    try:
        run = client(tracking).get_run(run_id)
    except Exception as exc:
        raise failure(exc, tracking, f"reading the inputs of run `{run_id}`") from None
    inputs = getattr(run, "inputs", None)
    out = []
    for item in getattr(inputs, "dataset_inputs", None) or []:
        dataset = item.dataset
        tags = {t.key: t.value for t in (item.tags or [])}
        out.append(
            {
                "name": dataset.name,
                "digest": dataset.digest,
                "source_type": dataset.source_type,
                "source": dataset.source,
                "context": tags.get("mlflow.data.context"),
            }
        )
    return out
