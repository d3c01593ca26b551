"""Prompts as versioned inputs: files hashed into provenance, and MLflow's prompt registry.

A prompt is named in the config either as a file (relative to the config's folder) or as
``prompts:/name@alias`` / ``prompts:/name/N`` in MLflow's prompt registry (mlflow 3). Either way
the gate records its sha256: two runs compared the same prompt only if the digests agree, whatever
the file or alias was called. The digest of a file prompt is the digest of its bytes, so
``sha256sum prompts/v2.txt`` matches the report.

A registry prompt's alias is promoted and rolled back like a model's (``registry/promotion.py``):
the same lock (a registered model ``mlgate-lock.<name>``: prompts and models share one namespace),
the same compare-and-swap against the version the gate compared with, and the same ledger, here in
the prompt's tags. MLflow's registered-model calls refuse prompts, so the moves go through the
prompt calls (``set_prompt_alias``, ``set_prompt_tag``) instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DataError

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from ..registry.promotion import LedgerEntry, MoveResult

_URI = re.compile(r"prompts:/(?P<name>[^/@\s]+)(?:@(?P<alias>[\w-]{1,255})|/(?P<version>[1-9][0-9]{0,18}))")
_MAX_PROMPT_BYTES = 1024 * 1024
_NEEDED = (
    "get_prompt",
    "get_prompt_version",
    "get_prompt_version_by_alias",
    "set_prompt_alias",
    "set_prompt_tag",
)


def parse_uri(spec: str, key: str) -> tuple[str, str | None, str | None]:
    """(name, alias, version) of a ``prompts:/`` URI; exactly one of alias and version is set."""
    found = _URI.fullmatch(spec)
    if found is None:
        raise ConfigError(
            f"`{key}`={spec!r} must look like 'prompts:/name@alias' or 'prompts:/name/3', or be a prompt file"
        )
    return found["name"], found["alias"], found["version"]


def resolve_prompt(
    spec: str, *, base_dir: Path, key: str, tracking_uri: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The prompt's text and its provenance ``{source, sha256, name, version}``.

    ``spec`` is a file path (relative to ``base_dir``) or a ``prompts:/`` URI, read from the registry
    at ``tracking_uri`` (default: ``$MLFLOW_TRACKING_URI``, else the embedded store beside the
    config). ``version`` is the registry version, None for a file.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"`{key}`={spec!r} must be a prompt file or a 'prompts:/name@alias' URI")
    if spec.startswith("prompts:"):
        return _from_registry(spec, base_dir, key, tracking_uri)
    path = Path(spec) if Path(spec).is_absolute() else base_dir / spec
    if not path.is_file():
        raise DataError(f"`{key}`: prompt file `{path}` does not exist")
    try:
        with path.open("rb") as handle:
            raw = handle.read(_MAX_PROMPT_BYTES + 1)
    except OSError as exc:
        raise DataError(f"`{key}`: prompt file `{path}` could not be read: {exc.strerror or exc}") from None
    if len(raw) > _MAX_PROMPT_BYTES:
        raise DataError(f"`{key}`: prompt file `{path}` is larger than {_MAX_PROMPT_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"`{key}`: prompt file `{path}` is not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise DataError(f"`{key}`: prompt file `{path}` is empty")
    digest = hashlib.sha256(raw).hexdigest()
    return text, {"source": spec, "sha256": digest, "name": spec, "version": None}


def _from_registry(spec: str, base_dir: Path, key: str, tracking: str | None) -> tuple[str, dict[str, Any]]:
    from ..registry.connect import failure, is_missing, tracking_uri

    name, alias, version = parse_uri(spec, key)
    uri = tracking or tracking_uri(None, base_dir)
    c = registry_client(uri)
    try:
        found = (
            c.get_prompt_version_by_alias(name, alias)
            if alias is not None
            else c.get_prompt_version(name, str(version))
        )
    except Exception as exc:
        if is_missing(exc):
            found = None
        else:
            raise failure(exc, uri, f"`{key}`: reading prompt `{spec}`") from None
    if found is None:
        what = f"alias `@{alias}`" if alias is not None else f"version {version}"
        exists = _exists(c, name)
        raise DataError(
            f"`{key}`: prompt `{spec}` was not found in the registry: "
            + (f"prompt `{name}` has no {what}" if exists else f"there is no prompt named `{name}`")
        )
    text = found.template
    if not isinstance(text, str):
        raise DataError(
            f"`{key}`: prompt `{spec}` is a chat prompt (a list of messages); the LLM gate takes text prompts"
        )
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return text, {"source": spec, "sha256": digest, "name": name, "version": str(found.version)}


def _exists(c: MlflowClient, name: str) -> bool:
    try:
        return c.get_prompt(name) is not None
    except Exception:
        return False


def registry_client(tracking: str) -> MlflowClient:
    """A client whose mlflow has a prompt registry (mlflow 3), else a ConfigError naming the version."""
    from ..registry.connect import client, import_mlflow

    mlflow = import_mlflow()
    c = client(tracking)
    missing = [name for name in _NEEDED if not hasattr(c, name)]
    if missing:
        raise ConfigError(
            f"prompts from MLflow's prompt registry need mlflow 3.0 or newer (installed: mlflow "
            f"{getattr(mlflow, '__version__', '?')}, which lacks {', '.join(missing)}): "
            "pip install 'mlflow>=3'"
        )
    return c


# --- promotion and rollback -----------------------------------------------------------------


def _current(c: MlflowClient, tracking: str, name: str, alias: str) -> str | None:
    from ..registry.connect import failure, is_missing

    try:
        found = c.get_prompt_version_by_alias(name, alias)
    except Exception as exc:
        if is_missing(exc):
            return None
        raise failure(exc, tracking, f"reading `prompts:/{name}@{alias}`") from None
    return None if found is None else str(found.version)


def _prompt_tags(c: MlflowClient, tracking: str, name: str) -> dict[str, str]:
    from ..registry.connect import RegistryError, failure

    try:
        prompt = c.get_prompt(name)
    except Exception as exc:
        raise failure(exc, tracking, f"reading prompt `{name}`") from None
    if prompt is None:
        raise RegistryError(f"prompt `{name}` does not exist in the prompt registry at `{tracking}`")
    return dict(prompt.tags or {})


def _version_text(c: MlflowClient, tracking: str, name: str, version: str) -> str:
    from ..registry.connect import RegistryError, failure, is_missing

    try:
        found = c.get_prompt_version(name, version)
    except Exception as exc:
        if not is_missing(exc):
            raise failure(exc, tracking, f"reading `prompts:/{name}/{version}`") from None
        found = None
    if found is None:
        raise RegistryError(f"version {version} of prompt `{name}` does not exist (deleted?)")
    return found.template if isinstance(found.template, str) else repr(found.template)


def move_prompt_alias(
    c: MlflowClient,
    tracking: str,
    *,
    name: str,
    alias: str,
    to_version: str,
    expected: str | object | None,
    template: LedgerEntry,
    lock_timeout: float = 30.0,
) -> MoveResult:
    """Compare-and-swap ``prompts:/name@alias`` to ``to_version`` under the lock, with a ledger entry.

    The models' own ``registry.promotion.compare_and_swap``, on the prompt registry's alias and tags.
    """
    from ..registry.promotion import AliasTarget, compare_and_swap, read_ledger

    def read() -> tuple[str | None, dict[str, str], list[LedgerEntry]]:
        tags = _prompt_tags(c, tracking, name)
        return _current(c, tracking, name, alias), tags, read_ledger(tags, f"prompt {name}")

    target = AliasTarget(
        where=f"`prompts:/{name}@{alias}`",
        lock_action=f"{template.action}-prompt",
        read=read,
        check_version=lambda version: _version_text(c, tracking, name, version),
        set_alias=lambda version: c.set_prompt_alias(name, alias, int(version)),
        set_tag=lambda key, value: c.set_prompt_tag(name, key, value),
        again="gate the prompt again",
    )
    return compare_and_swap(
        c, tracking, target, name=name, alias=alias, to_version=to_version, expected=expected,
        template=template, lock_timeout=lock_timeout,
    )  # fmt: skip


def _prompt_records(node: Any, name: str) -> Iterator[dict[str, Any]]:
    """Every prompt provenance record for ``name`` under ``node`` (the report's candidate or baseline)."""
    if isinstance(node, dict):
        source = node.get("source")
        if node.get("name") == name and isinstance(source, str) and source.startswith("prompts:/"):
            yield node
        for value in node.values():
            yield from _prompt_records(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from _prompt_records(value, name)


def promote_prompt(
    tracking: str,
    name: str,
    report_path: Path,
    *,
    alias: str | None = None,
    version: str | None = None,
    by: str | None = None,
    reason: str = "",
    lock_timeout: float = 30.0,
    made_here: str | None = None,
) -> tuple[MoveResult, tuple[str, ...]]:
    """Move ``prompts:/name@alias`` to the prompt version a PROMOTE report gated; returns (move, notes).

    The report must have decided PROMOTE and name the prompt in its candidate's provenance (the
    record ``resolve_prompt`` made), and that version's text in the registry must still hash to the
    gated sha256. ``made_here`` is the sha256 of the report when this process has just written it
    (``--rerun``); without it the report file is trusted as it is (the LLM gate logs no report to
    the prompt registry to compare it with). The alias must still point at the baseline's version when the baseline was this
    prompt at this alias (compare-and-swap); otherwise it is moved without that comparison, and a
    note says so.
    """
    from ..registry.promotion import ANY, LedgerEntry, PromotionRefused, actor, check_text
    from ..report.validate import read_report_and_sha256

    check_text("reason", reason)
    check_text("by", actor(by))
    report, digest = read_report_and_sha256(report_path)
    if made_here is not None and digest != made_here:
        raise PromotionRefused(
            f"report `{report_path}` changed while this command ran (sha256 {digest[:12]}…, not the "
            f"{made_here[:12]}… it wrote); nothing was changed: rerun it"
        )
    if report["decision"] != "promote":
        raise PromotionRefused(
            f"report `{report_path}` decided {str(report['decision']).upper()}, not PROMOTE: "
            f"{report.get('summary', '')}. Nothing was changed"
        )
    provenance = report["provenance"]
    gated = {
        (str(r.get("version")), r.get("sha256")) for r in _prompt_records(provenance.get("candidate"), name)
    }
    if len(gated) != 1:
        raise PromotionRefused(
            f"report `{report_path}` "
            + (
                f"names several versions of prompt `{name}` for the candidate ({sorted(v for v, _ in gated)})"
                if gated
                else f"does not name a version of prompt `{name}` (`prompts:/{name}@…` or `/N`) as the candidate's prompt"
            )
            + ", so there is nothing to promote. Nothing was changed"
        )
    (gated_version, gated_sha), *_ = gated
    if version is not None and str(version) != gated_version:
        raise PromotionRefused(
            f"`--version`={version} but report `{report_path}` gated version {gated_version} of prompt "
            f"`{name}`. Nothing was changed"
        )
    base = list(_prompt_records(provenance.get("baseline"), name))
    base_aliases = {parse_uri(r["source"], "baseline")[1] for r in base if _URI.fullmatch(r["source"])}
    if alias is None:
        named = sorted(a for a in base_aliases if a)
        if len(named) != 1:
            raise ConfigError(
                "`--alias` must be given: the report's baseline does not name one alias of prompt "
                f"`{name}` to promote to"
            )
        alias = named[0]
    check_text("alias", alias)
    if re.fullmatch(r"[\w-]{1,255}", alias) is None:
        raise ConfigError(f"`--alias`={alias!r} must be letters, digits, _ and -")
    c = registry_client(tracking)
    text = _version_text(c, tracking, name, gated_version)
    now = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if now != gated_sha:
        raise PromotionRefused(
            f"`prompts:/{name}/{gated_version}` hashes to {now[:12]}… now, but the report gated "
            f"{str(gated_sha)[:12]}…: this is not the text that was gated. Nothing was changed"
        )
    same = [r for r in base if _URI.fullmatch(r["source"]) and parse_uri(r["source"], "baseline")[1] == alias]
    notes: tuple[str, ...] = ()
    expected: str | object | None
    if same:
        pinned = {r.get("version") for r in same}
        expected = next(iter(pinned)) if len(pinned) == 1 else ANY
        expected = None if expected in (None, "None") else expected
    else:
        expected = ANY
        notes = (
            f"the gate's baseline was not `prompts:/{name}@{alias}`, so the alias is moved without comparing "
            "it with the gate's baseline (the lock still serialises promotions)",
        )
    data = provenance.get("data") if isinstance(provenance.get("data"), dict) else {}
    config = provenance.get("config") if isinstance(provenance.get("config"), dict) else {}
    template = LedgerEntry(
        seq=0,
        action="promote",
        alias=alias,
        from_version=None,
        to_version=gated_version,
        at="",
        by=actor(by),
        reason=reason,
        decision="promote",
        report_sha256=digest,
        data_sha256=_sha(data.get("sha256")),
        config_sha256=_sha(config.get("sha256")),
        git_sha=provenance.get("git_sha") if isinstance(provenance.get("git_sha"), str) else None,
    )
    move = move_prompt_alias(
        c,
        tracking,
        name=name,
        alias=alias,
        to_version=gated_version,
        expected=expected,
        template=template,
        lock_timeout=lock_timeout,
    )
    return move, notes


def _sha(value: Any) -> str | None:
    return value if isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) else None


def rollback_prompt(
    tracking: str,
    name: str,
    *,
    alias: str,
    reason: str,
    to_version: str | None = None,
    by: str | None = None,
    lock_timeout: float = 30.0,
) -> MoveResult:
    """Move ``prompts:/name@alias`` back to the version before its last promotion, or to ``to_version``."""
    from ..registry.promotion import MoveResult, actor, check_text, plan_rollback, read_ledger

    check_text("reason", reason)
    check_text("by", actor(by))
    if not reason.strip():
        raise ConfigError("`--reason` must not be empty: the ledger records why a rollback happened")
    if re.fullmatch(r"[\w-]{1,255}", alias) is None:
        raise ConfigError(f"`--alias`={alias!r} must be letters, digits, _ and -")
    if to_version is not None and re.fullmatch(r"[1-9][0-9]{0,18}", str(to_version)) is None:
        raise ConfigError(f"`--to-version`={to_version!r} must be a version number, such as 3")
    c = registry_client(tracking)
    tags = _prompt_tags(c, tracking, name)
    current = _current(c, tracking, name, alias)
    label = f"prompts:/{name}"
    ledger = read_ledger(tags, f"prompt {name}") if to_version is None else []
    plan = plan_rollback(
        ledger,
        name=name,
        label=label,
        alias=alias,
        current=current,
        to_version=to_version,
        by=by,
        reason=reason,
    )
    if isinstance(plan, MoveResult):
        return plan
    target, template = plan
    return move_prompt_alias(
        c,
        tracking,
        name=name,
        alias=alias,
        to_version=target,
        expected=current,
        template=template,
        lock_timeout=lock_timeout,
    )


def prompt_history(tracking: str, name: str) -> dict[str, Any]:
    """The prompt's aliases, its ledger (oldest first) and its versions with their sha256."""
    from ..registry.connect import failure
    from ..registry.promotion import read_ledger

    c = registry_client(tracking)
    tags = _prompt_tags(c, tracking, name)
    try:
        numbers = sorted(int(v.version) for v in c.search_prompt_versions(name, max_results=1000))
        # Search results leave `aliases` empty; reading each version fills them in.
        versions = [c.get_prompt_version(name, str(n)) for n in numbers]
    except Exception as exc:
        raise failure(exc, tracking, f"listing the versions of prompt `{name}`") from None
    aliases: dict[str, str] = {}
    rows = []
    for pv in versions:
        if pv is None:
            continue  # deleted between the listing and the read
        for alias in pv.aliases or []:
            aliases[str(alias)] = str(pv.version)
        text = pv.template if isinstance(pv.template, str) else json.dumps(pv.template, sort_keys=True)
        rows.append({"version": str(pv.version), "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()})
    return {
        "prompt": name,
        "aliases": aliases,
        "ledger": [json.loads(e.to_json()) for e in read_ledger(tags, f"prompt {name}")],
        "versions": rows,
    }
