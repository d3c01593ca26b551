"""`mlgate promote`, `mlgate rollback` and `mlgate history`, without argparse.

Promotion trusts nothing it has not checked: the report must say promote, be
the report logged on that version (its sha256 is the version's
``mlgate.report_sha256`` tag, which only a gate run that logs writes), or one
this very command has just made by gating again, and have been made from this
config, on this data, for the version the config names now. Only then does the
alias move. A report file is anyone's to edit; the registry's record is not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, DataError
from ..io.tables import file_sha256
from . import gittag
from .connect import client, failure
from .promotion import (
    ANY,
    LedgerEntry,
    MoveResult,
    PartialPromotion,
    PromotionRefused,
    actor,
    check_text,
    move_alias,
    plan_rollback,
    read_ledger,
    registered_model,
)

if TYPE_CHECKING:
    from ..config import GateConfig


@dataclass(frozen=True)
class Promotion:
    """What a promotion did. ``problem`` is set when the alias moved but the git step failed."""

    move: MoveResult
    git_tag: str | None
    git_tag_created: bool
    pushed_to: str | None
    notes: tuple[str, ...]
    problem: PartialPromotion | None = None

    @property
    def state(self) -> str:
        return self.problem.state if self.problem is not None else "done"


def read_report(path: Path) -> dict[str, Any]:
    """The report, checked against the report schema (a wrong shape names the JSON path)."""
    from ..report.validate import read_report as read_checked

    return read_checked(path)


def promote(
    report_path: Path,
    config: GateConfig,
    *,
    alias: str | None = None,
    by: str | None = None,
    reason: str = "",
    git_tag: bool | None = None,
    push: str | None = None,
    lock_timeout: float = 30.0,
    made_here: str | None = None,
) -> Promotion:
    """Verify the report against the config, data and registry, then move the alias (see ``promotion``).

    ``git_tag`` None tags when the config sits in a git repository. ``made_here`` is the sha256 of
    the report when this process has just written it by running the gate itself (``--rerun``);
    otherwise the report must be the one logged to the registry for its version.
    """
    check_text("reason", reason)
    check_text("by", actor(by))
    from ..report.validate import read_report_and_sha256

    report, digest = read_report_and_sha256(report_path)
    provenance = report["provenance"]
    candidate = provenance.get("candidate") or {}
    name, version = candidate.get("model_name"), candidate.get("version")
    if candidate.get("kind") != "mlflow" or not name or not version:
        raise PromotionRefused(
            f"report `{report_path}`: its candidate ({candidate.get('name', 'unknown')}) is not a registered "
            "MLflow model version, so there is nothing to promote; name it as `models:/name@alias` or `models:/name/N`"
        )
    if report["decision"] != "promote":
        raise PromotionRefused(
            f"report `{report_path}` decided {str(report['decision']).upper()}, not PROMOTE: "
            f"{report.get('summary', '')}. Nothing was changed"
        )
    _check_same_inputs(report_path, provenance, config)
    tracking = config.tracking_uri()
    c = client(tracking)
    if config.candidate is not None and config.candidate.uri is not None:
        from ..io.mlflow_model import resolve

        now = resolve(config.candidate.uri, tracking, "candidate", c)
        if (now.name, now.version) != (name, str(version)):
            raise PromotionRefused(
                f"report `{report_path}` gated {name} v{version}, but `candidate.model`={config.candidate.uri!r} "
                f"now resolves to {now.name} v{now.version}: gate that version before promoting it"
            )
    if made_here is not None:
        if digest != made_here:
            raise PromotionRefused(
                f"report `{report_path}` changed while this command ran (sha256 {digest[:12]}…, not the "
                f"{made_here[:12]}… it wrote); nothing was changed: rerun it"
            )
    else:
        _check_logged(c, tracking, report_path, digest, name, str(version))
    alias = alias or config.mlflow.alias
    expected, notes = _expected(provenance.get("baseline"), name, alias)
    template = LedgerEntry(
        seq=0,
        action="promote",
        alias=alias,
        from_version=None,
        to_version=str(version),
        at="",
        by=actor(by),
        reason=reason,
        decision=str(report["decision"]),
        report_sha256=digest,
        data_sha256=provenance["data"]["sha256"],
        config_sha256=provenance["config"]["sha256"],
        git_sha=provenance.get("git_sha"),
    )
    move = move_alias(
        c,
        tracking,
        name=name,
        alias=alias,
        to_version=str(version),
        expected=expected,
        template=template,
        lock_timeout=lock_timeout,
    )
    try:
        tag, created, pushed = _tag(config, name, str(version), alias, move, template, git_tag, push)
    except gittag.GitError as exc:
        return Promotion(move, exc.tag, bool(exc.created), None, notes, _after_move(move, exc))
    return Promotion(move, tag, created, pushed, notes)


def _after_move(move: MoveResult, exc: gittag.GitError) -> PartialPromotion:
    """The git step failed after the alias moved: say that production moved, and how to finish."""
    where = f"`{move.model_name}@{move.alias}`"
    if move.moved:
        was = f"v{move.from_version}" if move.from_version else "unset"
        done = f"{where} was moved from {was} to v{move.to_version} and ledger entry #{move.entry.seq if move.entry else '?'} was written"
    else:
        done = f"{where} already pointed at v{move.to_version} and its ledger entry was there"
    tag = ""
    if exc.tag is not None:
        tag = f" (the tag `{exc.tag}` {'was created' if exc.created else 'was already there'} locally)"
    return PartialPromotion(
        f"{done}, but the git step failed: {exc}{tag}. Production serves the new version. Fix the git "
        "problem and rerun the same command: it will not move the alias again, and it finishes the tag"
        " (or pass --no-git-tag)",
        state="alias-moved",
    )


def _check_logged(c: Any, tracking: str, report_path: Path, digest: str, name: str, version: str) -> None:
    """The report must be the one the gate logged for this version: the registry's tag, not the file, decides."""
    try:
        tags = c.get_model_version(name, version).tags
    except Exception as exc:
        raise failure(exc, tracking, f"reading `{name}` v{version}") from None
    logged = tags.get("mlgate.report_sha256")
    if logged is None:
        raise PromotionRefused(
            f"report `{report_path}` cannot be verified: no gate report was logged to the registry for "
            f"{name} v{version} (its tag `mlgate.report_sha256` is not set: the gate ran with --no-log, "
            "--mlgate-no-log or `mlflow.log: false`). Nothing was changed. Run `mlgate gate` without "
            "--no-log so the report is logged, then promote; or run `mlgate promote --rerun` to gate "
            "again and promote on that result"
        )
    if logged != digest:
        raise PromotionRefused(
            f"report `{report_path}` does not match the report logged to the registry for {name} v{version}: "
            f"its sha256 is {digest[:12]}…, the logged one's {logged[:12]}… (decision "
            f"{tags.get('mlgate.decision', '?')}). It is stale (a later gate run logged another) or it "
            "was edited. Nothing was changed: promote with the report the last gate run wrote, or gate again"
        )
    if tags.get("mlgate.decision") != "promote":
        raise PromotionRefused(
            f"report `{report_path}` matches the report logged for {name} v{version}, but the version's "
            f"tag `mlgate.decision` is {tags.get('mlgate.decision')!r}, not 'promote'. Nothing was changed: "
            "gate again"
        )


def _check_same_inputs(report_path: Path, provenance: dict[str, Any], config: GateConfig) -> None:
    if provenance["config"]["sha256"] != config.sha256:
        raise PromotionRefused(
            f"report `{report_path}` was made with another config (sha256 {str(provenance['config']['sha256'])[:12]}…) "
            f"than `{config.source}` ({config.sha256[:12]}…): gate again with this config"
        )
    if not config.data.path.is_file():
        raise DataError(f"data file `{config.data.path}` does not exist")
    data_sha = file_sha256(config.data.path)
    if provenance["data"]["sha256"] != data_sha:
        raise PromotionRefused(
            f"report `{report_path}` was made on other data (sha256 {str(provenance['data']['sha256'])[:12]}…) "
            f"than `{config.data.path}` is now ({data_sha[:12]}…): gate again on this data"
        )


def _expected(
    baseline: dict[str, Any] | None, name: str, alias: str
) -> tuple[str | object | None, tuple[str, ...]]:
    """The version ``alias`` must still point at: the one the gate compared against."""
    pin = baseline or {}
    if pin.get("kind") == "mlflow" and pin.get("model_name") == name and pin.get("alias") in (alias, None):
        return pin.get("version"), ()
    return ANY, (
        f"the gate's baseline was not `{name}@{alias}`, so the alias is moved without comparing it "
        "with the gate's baseline (the lock still serialises promotions)",
    )


def _tag(
    config: GateConfig,
    name: str,
    version: str,
    alias: str,
    move: MoveResult,
    template: LedgerEntry,
    wanted: bool | None,
    push: str | None,
) -> tuple[str | None, bool, str | None]:
    repo = config.source.parent if config.source else Path.cwd()
    if wanted is False or (wanted is None and not gittag.is_repository(repo)):
        return None, False, None
    if not gittag.is_repository(repo):
        raise gittag.GitError(f"`{repo}` is not a git repository, so {name} v{version} could not be tagged")
    tag = gittag.tag_name(name, version)
    commit = template.git_sha or "HEAD"
    message = "\n".join(
        [
            f"mlgate promote: {name} v{version} → @{alias}",
            "",
            f"previous: {'v' + move.from_version if move.from_version else 'none'}",
            f"decision: {template.decision}",
            f"report sha256: {template.report_sha256}",
            f"data sha256: {template.data_sha256}",
            f"config sha256: {template.config_sha256}",
            f"by: {template.by}",
        ]
    )
    created = gittag.create_tag(repo, tag, commit, message + "\n")
    if push:
        try:
            gittag.push_tag(repo, tag, push)
        except gittag.GitError as exc:
            exc.tag, exc.created = tag, created
            raise
    return tag, created, push


def rollback(
    tracking: str,
    name: str,
    *,
    alias: str,
    reason: str,
    to_version: str | None = None,
    by: str | None = None,
    lock_timeout: float = 30.0,
) -> MoveResult:
    """Move ``alias`` back to the version it had before its last promotion, or to ``to_version``.

    Idempotent: a second rollback finds the alias already rolled back and moves nothing.
    """
    check_text("reason", reason)
    check_text("by", actor(by))
    if to_version is not None and re.fullmatch(r"[1-9][0-9]{0,18}", str(to_version)) is None:
        raise ConfigError(f"`--to-version`={to_version!r} must be a version number, such as 3")
    c = client(tracking)
    model = registered_model(c, tracking, name)
    current = model.aliases.get(alias)
    current = str(current) if current is not None else None
    ledger = read_ledger(model.tags, name) if to_version is None else []
    plan = plan_rollback(
        ledger,
        name=name,
        label=name,
        alias=alias,
        current=current,
        to_version=to_version,
        by=by,
        reason=reason,
    )
    if isinstance(plan, MoveResult):
        return plan
    target, template = plan
    return move_alias(
        c,
        tracking,
        name=name,
        alias=alias,
        to_version=target,
        expected=current,
        template=template,
        lock_timeout=lock_timeout,
    )


@dataclass(frozen=True)
class History:
    name: str
    aliases: dict[str, str]
    ledger: list[LedgerEntry]
    gated: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "aliases": self.aliases,
            "ledger": [json.loads(e.to_json()) for e in self.ledger],
            "gated_versions": self.gated,
        }


def alias_version(tracking: str, name: str, alias: str) -> str | None:
    """The version ``name@alias`` points at now, read from the registry (None: the alias is not set)."""
    version = registered_model(client(tracking), tracking, name).aliases.get(alias)
    return None if version is None else str(version)


def history(tracking: str, name: str) -> History:
    c = client(tracking)
    model = registered_model(c, tracking, name)
    try:
        versions = c.search_model_versions(f"name='{name}'")
    except Exception as exc:
        raise failure(exc, tracking, f"listing the versions of `{name}`") from None
    gated = []
    for mv in sorted(versions, key=lambda v: int(v.version)):
        tags = mv.tags or {}
        gated.append(
            {
                "version": str(mv.version),
                "decision": tags.get("mlgate.decision", "not gated"),
                "gated_at": tags.get("mlgate.gated_at", ""),
                "git_sha": tags.get("git.sha", ""),
                "report_sha256": tags.get("mlgate.report_sha256", ""),
                "baseline": tags.get("mlgate.baseline", ""),
            }
        )
    return History(name, {k: str(v) for k, v in model.aliases.items()}, read_ledger(model.tags, name), gated)


def model_name_from(config: GateConfig | None) -> str | None:
    """The registered model a config's candidate or baseline names, for commands that take a model."""
    if config is None:
        return None
    from ..io.mlflow_model import parse

    for source in (config.candidate, config.baseline):
        if source is not None and source.uri is not None and source.uri.startswith("models:/"):
            return str(parse(source.uri, source.role)["name"])
    return None
