"""Promotion and rollback: moving a registry alias with compare-and-swap, and the ledger.

MLflow has no conditional alias update: ``set_registered_model_alias`` is a
blind write. Two promotions that both read ``@champion → v1`` would both
write, and the last one would win silently. We build compare-and-swap from
the one atomic operation the registry does have: creating a registered model
fails if the name exists (a unique key in the backing database). So

1. ``create_registered_model("mlgate-lock.<name>")`` takes the lock, or waits;
2. under the lock, the alias is read and compared with the version the gate
   compared against; a mismatch refuses;
3. the alias is moved, the ledger entry appended, then the lock deleted.

Guarantees: every writer that goes through mlgate is serialised, so of two
racing promotions exactly one moves the alias and the other is refused with
the version it found. The alias move is one request: after a failure it is
either unchanged or fully moved, and a rerun reads which and finishes the
ledger (an alias already on the candidate is "already promoted"). A lock left
behind by a process that died is broken when its holder is provably gone
(same host, no such pid) or older than ``stale_after``. Not guaranteed:
someone moving the alias by hand in the MLflow UI is not serialised, though
the next promotion still sees and refuses the unexpected version.

The ledger lives in the registered model's tags, ``mlgate.ledger.000001`` …,
one JSON entry each, appended only under the lock.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import MlgateError
from .connect import RegistryError, error_code, failure, is_missing

if TYPE_CHECKING:
    from mlflow import MlflowClient

LOCK_PREFIX = "mlgate-lock."
LEDGER_PREFIX = "mlgate.ledger."
PREVIOUS_TAG = "mlgate.previous."
_POLL_S = 0.25


class PromotionRefused(MlgateError):
    """The registry was left as it was, on purpose (exit 1): the message says why."""


@dataclass(frozen=True)
class LedgerEntry:
    """One alias move. ``from_version`` is None for the first champion."""

    seq: int
    action: str
    alias: str
    from_version: str | None
    to_version: str
    at: str
    by: str
    reason: str = ""
    decision: str | None = None
    report_sha256: str | None = None
    data_sha256: str | None = None
    config_sha256: str | None = None
    git_sha: str | None = None
    note: str = ""

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass(frozen=True)
class MoveResult:
    """What a promote or rollback did; ``moved`` is False when the alias was already there."""

    model_name: str
    alias: str
    from_version: str | None
    to_version: str
    moved: bool
    entry: LedgerEntry | None
    messages: tuple[str, ...] = field(default_factory=tuple)

    def __str__(self) -> str:
        if not self.moved:
            return f"{self.model_name}@{self.alias} already points at v{self.to_version}; nothing to move"
        was = f"v{self.from_version}" if self.from_version else "unset"
        return f"{self.model_name}@{self.alias}: {was} → v{self.to_version} (ledger #{self.entry.seq if self.entry else '?'})"


def actor(given: str | None = None) -> str:
    if given:
        return given
    for var in ("GITHUB_ACTOR", "USER", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --- the lock -------------------------------------------------------------------------------


@contextmanager
def registry_lock(
    c: MlflowClient,
    tracking: str,
    name: str,
    purpose: str,
    *,
    timeout: float = 30.0,
    stale_after: float = 900.0,
) -> Iterator[None]:
    """Hold ``mlgate-lock.<name>`` for the block; wait up to ``timeout`` s for another holder."""
    lock = LOCK_PREFIX + name
    holder = {
        "host": socket.gethostname(),
        "pid": str(os.getpid()),
        "since": str(time.time()),
        "purpose": purpose,
    }
    deadline = time.monotonic() + timeout
    while True:
        try:
            c.create_registered_model(
                lock,
                tags={f"mlgate.lock.{k}": v for k, v in holder.items()},
                description=f"Lock held by `mlgate {purpose}` on {name}. Safe to delete if no promotion runs.",
            )
            break
        except Exception as exc:
            if error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                raise failure(exc, tracking, f"taking the promotion lock `{lock}`") from None
        held = _lock_holder(c, lock)
        if held is not None and _is_stale(held, stale_after):
            _delete_quietly(c, lock)
            continue
        if time.monotonic() >= deadline:
            who = (
                f"{held.get('purpose', '?')} by pid {held.get('pid', '?')} on {held.get('host', '?')}"
                if held
                else "another process"
            )
            raise PromotionRefused(
                f"another promotion of `{name}` is in progress ({who}); nothing was changed. Wait and rerun, "
                f"or delete the registered model `{lock}` if no promotion is running"
            )
        time.sleep(_POLL_S)
    try:
        yield
    finally:
        _delete_quietly(c, lock)


def _lock_holder(c: MlflowClient, lock: str) -> dict[str, str] | None:
    try:
        tags = c.get_registered_model(lock).tags
    except Exception:
        return None  # released between our attempt and this read
    return {k.removeprefix("mlgate.lock."): v for k, v in tags.items() if k.startswith("mlgate.lock.")}


def _is_stale(held: dict[str, str], stale_after: float) -> bool:
    try:
        age = time.time() - float(held.get("since", "nan"))
    except ValueError:
        return True
    if age > stale_after:
        return True
    if held.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(held.get("pid", "-1")), 0)
    except ProcessLookupError:
        return True  # its process is gone: it died holding the lock
    except (PermissionError, ValueError, OSError):
        return False
    return False


def _delete_quietly(c: MlflowClient, lock: str) -> None:
    with contextlib.suppress(Exception):  # already gone, or the server is down: a rerun breaks it as stale
        c.delete_registered_model(lock)


# --- the ledger -----------------------------------------------------------------------------


def registered_model(c: MlflowClient, tracking: str, name: str) -> Any:
    try:
        return c.get_registered_model(name)
    except Exception as exc:
        if is_missing(exc):
            raise RegistryError(f"registered model `{name}` does not exist on the tracking server") from None
        raise failure(exc, tracking, f"reading registered model `{name}`") from None


def read_ledger(tags: dict[str, str]) -> list[LedgerEntry]:
    entries = []
    for key, value in tags.items():
        if not key.startswith(LEDGER_PREFIX):
            continue
        try:
            entries.append(LedgerEntry(**json.loads(value)))
        except (ValueError, TypeError) as exc:
            raise RegistryError(f"ledger tag `{key}` is not a ledger entry: {exc}") from None
    return sorted(entries, key=lambda e: e.seq)


def _append(c: MlflowClient, tracking: str, name: str, entry: LedgerEntry) -> None:
    try:
        c.set_registered_model_tag(name, f"{LEDGER_PREFIX}{entry.seq:06d}", entry.to_json())
        if entry.from_version is not None:
            c.set_registered_model_tag(name, PREVIOUS_TAG + entry.alias, entry.from_version)
    except Exception as exc:
        raise failure(
            exc,
            tracking,
            f"the alias was moved, but ledger entry #{entry.seq} was not written; rerun the same command to finish it",
        ) from None


def _version_exists(c: MlflowClient, tracking: str, name: str, version: str) -> None:
    try:
        c.get_model_version(name, version)
    except Exception as exc:
        if is_missing(exc):
            raise RegistryError(f"version {version} of `{name}` does not exist (deleted?)") from None
        raise failure(exc, tracking, f"reading `{name}` v{version}") from None


# --- moves ----------------------------------------------------------------------------------


def move_alias(
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
    """Compare-and-swap ``name@alias`` to ``to_version``, under the lock, with a ledger entry.

    ``expected`` is the version the alias must point at now (None: not set);
    ``ANY`` skips the comparison. Already at ``to_version``: completes the
    ledger if a failed run left it short, and moves nothing.
    """
    with registry_lock(c, tracking, name, template.action, timeout=lock_timeout):
        model = registered_model(c, tracking, name)
        current = model.aliases.get(alias)
        current = str(current) if current is not None else None
        ledger = read_ledger(model.tags)
        seq = (ledger[-1].seq if ledger else 0) + 1
        if current == to_version:
            last = next((e for e in reversed(ledger) if e.alias == alias), None)
            if last is not None and last.to_version == to_version:
                return MoveResult(name, alias, current, to_version, False, None)
            entry = _entry(template, seq, alias, None if expected is ANY else expected, to_version)  # type: ignore[arg-type]
            entry = LedgerEntry(
                **{**asdict(entry), "note": "alias was already moved; ledger completed by a rerun"}
            )
            _append(c, tracking, name, entry)
            return MoveResult(name, alias, entry.from_version, to_version, True, entry)
        if expected is not ANY and current != expected:
            want = f"v{expected}" if expected else "unset"
            now = f"v{current}" if current else "unset"
            raise PromotionRefused(
                f"`{name}@{alias}` is {now}, but this {template.action} expected it to be {want} "
                f"(the version the gate compared against); it was moved meanwhile. Nothing was changed: "
                f"gate the candidate again against the new `@{alias}`"
            )
        _version_exists(c, tracking, name, to_version)
        try:
            c.set_registered_model_alias(name, alias, to_version)
        except Exception as exc:
            raise failure(
                exc,
                tracking,
                f"moving `{name}@{alias}` to v{to_version}: the alias is either unchanged or moved; "
                "rerun the same command to converge",
            ) from None
        entry = _entry(template, seq, alias, current, to_version)
        _append(c, tracking, name, entry)
        return MoveResult(name, alias, current, to_version, True, entry)


ANY: object = object()


def _entry(
    template: LedgerEntry, seq: int, alias: str, from_version: str | None, to_version: str
) -> LedgerEntry:
    return LedgerEntry(
        **{
            **asdict(template),
            "seq": seq,
            "alias": alias,
            "from_version": from_version,
            "to_version": to_version,
            "at": now_iso(),
        }
    )


def rollback_target(ledger: list[LedgerEntry], alias: str, current: str | None, name: str) -> str | None:
    """The version to roll back to, or None when the last move of the alias was already a rollback."""
    if current is None:
        raise PromotionRefused(f"nothing to roll back: `{name}@{alias}` is not set")
    last = next((e for e in reversed(ledger) if e.alias == alias and e.to_version == current), None)
    if last is None:
        raise PromotionRefused(
            f"nothing to roll back to: the ledger has no entry that moved `{name}@{alias}` to v{current} "
            "(it was set outside mlgate); pass --to-version N"
        )
    if last.action == "rollback":
        return None
    if last.from_version is None:
        raise PromotionRefused(
            f"nothing to roll back to: v{current} is the first `@{alias}` of `{name}` in the ledger; "
            "pass --to-version N to choose one"
        )
    return last.from_version
