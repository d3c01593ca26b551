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
(same host, no such pid) or older than ``stale_after``. Breaking and releasing
are both a compare-and-delete (``_delete_if_held_by``): each taking of the lock
carries a random token, and only the party that creates that taking's claim
may delete it, after reading the token again. So two waiters that saw the same
stale holder cannot both break it, and a slow holder whose lock was broken
does not delete its successor's (it also checks its token just before moving
the alias). Not guaranteed: someone moving the alias by hand in the MLflow UI
is not serialised, though the next promotion still sees and refuses the
unexpected version.

The ledger lives in the registered model's tags, ``mlgate.ledger.000001`` …,
one JSON entry each, appended only under the lock. Tags are anyone's to edit,
so every entry is validated when read: a malformed one stops the command.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import os
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, MlgateError
from .connect import RegistryError, cause, error_code, failure, is_missing, unreachable

if TYPE_CHECKING:
    from mlflow import MlflowClient

LOCK_PREFIX = "mlgate-lock."
CLAIM_PREFIX = "mlgate-lock-release."
LEDGER_PREFIX = "mlgate.ledger."
PREVIOUS_TAG = "mlgate.previous."
_POLL_S = 0.25


class PromotionRefused(MlgateError):
    """The registry was left as it was, on purpose (exit 1): the message says why."""


class PartialPromotion(MlgateError):
    """A promotion or rollback stopped after the alias moved, or while it moved (exit 1).

    ``state`` is how far it got: ``alias-moved`` (the alias points at the new version; a later step,
    the ledger or the git tag, is missing) or ``unknown`` (the move itself failed without an answer).
    The message says what was done and what was not; rerunning the same command finishes the job.
    """

    def __init__(self, message: str, *, state: str) -> None:
        super().__init__(message)
        self.state = state


class PartialRegistryWrite(PartialPromotion, RegistryError):
    """A partial promotion whose missing step is a registry write (exit 3, like any registry failure)."""


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


@dataclass(frozen=True)
class HeldLock:
    """The lock this process holds: its registered model and the token that tells it from a successor's."""

    c: MlflowClient
    tracking: str
    name: str
    lock: str
    token: str

    def check(self, what: str) -> None:
        """Refuse ``what`` if the lock was broken as stale meanwhile: a successor may be moving the alias."""
        held = _lock_holder(self.c, self.lock)
        if held is None or held.get("token") != self.token:
            raise PromotionRefused(
                f"the promotion lock `{self.lock}` was broken as stale while this process held it (it ran "
                f"too long); {what} was not done and nothing was changed: rerun the same command"
            )


@contextmanager
def registry_lock(
    c: MlflowClient,
    tracking: str,
    name: str,
    purpose: str,
    *,
    timeout: float = 30.0,
    stale_after: float = 900.0,
) -> Iterator[HeldLock]:
    """Hold ``mlgate-lock.<name>`` for the block; wait up to ``timeout`` s for another holder."""
    lock = LOCK_PREFIX + name
    holder = {
        "host": socket.gethostname(),
        "pid": str(os.getpid()),
        "since": str(time.time()),
        "purpose": purpose,
        "token": secrets.token_hex(16),
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
        if held is not None and _is_stale(held, stale_after) and _delete_if_held_by(c, lock, held):
            continue
        if time.monotonic() >= deadline:
            raise PromotionRefused(_busy(c, name, lock, held))
        time.sleep(_POLL_S)
    try:
        yield HeldLock(c, tracking, name, lock, holder["token"])
    finally:
        # Only our own lock: if ours was broken as stale, the registered model now is a successor's.
        _delete_if_held_by(c, lock, holder)


def _busy(c: MlflowClient, name: str, lock: str, held: dict[str, str] | None) -> str:
    who = (
        f"{held.get('purpose', '?')} by pid {held.get('pid', '?')} on {held.get('host', '?')}"
        if held
        else "another process"
    )
    fix = f"delete the registered model `{lock}` if no promotion is running"
    if held is not None and _lock_holder(c, _release_claim(lock, held)) is not None:
        fix = (
            f"a process that was releasing or breaking it stopped half-way: delete the registered models "
            f"`{lock}` and `{_release_claim(lock, held)}` if no promotion is running"
        )
    return (
        f"another promotion of `{name}` is in progress ({who}); nothing was changed. Wait and rerun, or {fix}"
    )


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


def _identity(held: dict[str, str]) -> str:
    """What tells one taking of the lock from the next: its token (locks of older mlgates: their tags)."""
    return held.get("token") or json.dumps(held, sort_keys=True)


def _release_claim(lock: str, held: dict[str, str]) -> str:
    # Fixed length, whatever the model's name: registered model names are limited to 256 characters.
    return CLAIM_PREFIX + hashlib.sha256(f"{lock}\0{_identity(held)}".encode()).hexdigest()[:32]


def _delete_if_held_by(c: MlflowClient, lock: str, held: dict[str, str]) -> bool:
    """Compare-and-delete: delete ``lock`` only while it is still the taking described by ``held``.

    MLflow can only create a name atomically, so whoever deletes one taking of the lock (its holder
    releasing it, or a waiter breaking it as stale) first creates that taking's claim. Of two parties
    that both saw the same holder, one gets the claim; the other stands aside. Under the claim the
    lock is read again: the same taking cannot vanish (only the claim's owner deletes it) and no
    other can appear (the name is taken), so what is read is what gets deleted. Without this, a
    waiter that saw a stale holder could delete the lock a faster waiter had just taken.
    """
    claim = _release_claim(lock, held)
    try:
        c.create_registered_model(
            claim,
            tags={"mlgate.claim.lock": lock, "mlgate.claim.since": str(time.time())},
            description=f"Held for a moment while `{lock}` is released. Safe to delete if no promotion runs.",
        )
    except Exception:
        return False  # another party is releasing this taking, or the server is down: leave it
    try:
        now = _lock_holder(c, lock)
        if now is None or _identity(now) != _identity(held):
            return False
        with contextlib.suppress(Exception):
            c.delete_registered_model(lock)
            return True
        return False
    finally:
        with contextlib.suppress(Exception):  # a claim left behind is named by the next refusal
            c.delete_registered_model(claim)


# --- the ledger -----------------------------------------------------------------------------


def registered_model(c: MlflowClient, tracking: str, name: str) -> Any:
    try:
        return c.get_registered_model(name)
    except Exception as exc:
        if is_missing(exc):
            raise RegistryError(f"registered model `{name}` does not exist on the tracking server") from None
        raise failure(exc, tracking, f"reading registered model `{name}`") from None


_VERSION = re.compile(r"[1-9][0-9]{0,18}")
_ALIAS = re.compile(r"[\w-]{1,255}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_TEXT_MAX = 5000


def check_text(key: str, value: str) -> None:
    """Free text that goes into the ledger (and from there into logs and workflow outputs): one line."""
    if _CONTROL.search(value) or len(value) > _TEXT_MAX:
        raise ConfigError(
            f"`{key}`={value[:80]!r} must be one line of at most {_TEXT_MAX} characters, without control characters"
        )


def _entry_problem(key: str, data: Any) -> str | None:
    """Why a ledger tag's value is not an entry we wrote, or None. Registry tags are anyone's to edit."""
    if not isinstance(data, dict):
        return f"its value is {type(data).__name__}, not an object"
    known = {f.name for f in fields(LedgerEntry)}
    unknown = sorted(set(data) - known)
    if unknown:
        return f"it has unknown field(s) {', '.join(map(repr, unknown))}"
    missing = sorted(f.name for f in fields(LedgerEntry) if f.name not in data and f.default is MISSING)
    if missing:
        return f"it lacks field(s) {', '.join(missing)}"
    seq = data["seq"]
    if type(seq) is not int or seq < 1 or key != f"{LEDGER_PREFIX}{seq:06d}":
        return f"`seq`={seq!r} must be the positive number its key ends with"
    rules: dict[str, tuple[re.Pattern[str] | tuple[str, ...], bool, str]] = {
        "action": (("promote", "rollback"), False, "promote or rollback"),
        "alias": (_ALIAS, False, "an alias (letters, digits, _ and -)"),
        "from_version": (_VERSION, True, "a version number or null"),
        "to_version": (_VERSION, False, "a version number"),
        "at": (_AT, False, "a UTC time like 2025-01-31T12:00:00Z"),
        "decision": (("promote", "keep", "reject"), True, "promote, keep, reject or null"),
        "report_sha256": (_SHA256, True, "a sha256 or null"),
        "data_sha256": (_SHA256, True, "a sha256 or null"),
        "config_sha256": (_SHA256, True, "a sha256 or null"),
        "git_sha": (_GIT_SHA, True, "a git commit id or null"),
    }
    for name, (allowed, nullable, what) in rules.items():
        value = data.get(name)
        if value is None and nullable:
            continue
        ok = isinstance(value, str) and (
            value in allowed if isinstance(allowed, tuple) else allowed.fullmatch(value) is not None
        )
        if not ok:
            return f"`{name}`={str(value)[:80]!r} must be {what}"
    for name in ("by", "reason", "note"):
        value = data.get(name, "")
        if not isinstance(value, str) or _CONTROL.search(value) or len(value) > _TEXT_MAX:
            return f"`{name}`={str(value)[:80]!r} must be one line of text without control characters"
    return None


def read_ledger(tags: dict[str, str], model: str = "the model") -> list[LedgerEntry]:
    """The ledger, oldest first; any tag under ``mlgate.ledger.`` that is not a valid entry refuses (exit 3)."""
    entries = []
    for key, value in tags.items():
        if not key.startswith(LEDGER_PREFIX):
            continue
        try:
            data = json.loads(value)
        except ValueError as exc:
            problem: str | None = f"it is not JSON ({exc})"
        else:
            problem = _entry_problem(key, data)
        if problem is not None:
            raise RegistryError(
                f"ledger tag `{key}` of `{model}` is not a ledger entry mlgate wrote: {problem}. "
                "Nothing was changed; inspect the tag in the MLflow UI, and fix or delete it"
            )
        entries.append(LedgerEntry(**data))
    return sorted(entries, key=lambda e: e.seq)


def _append(target: AliasTarget, tracking: str, entry: LedgerEntry, moved: str) -> None:
    """Write the ledger entry; ``moved`` says what already happened, for the message if this fails."""
    try:
        target.set_tag(f"{LEDGER_PREFIX}{entry.seq:06d}", entry.to_json())
    except Exception as exc:
        raise PartialRegistryWrite(
            f"{moved}, but ledger entry #{entry.seq} was not written: {cause(exc, tracking)}; "
            "rerun the same command (when the server is back): it will not move the alias again, "
            "and it writes the entry",
            state="alias-moved",
        ) from None
    if entry.from_version is not None:
        _set_previous(target, tracking, entry, moved)


def _set_previous(target: AliasTarget, tracking: str, entry: LedgerEntry, moved: str) -> None:
    assert entry.from_version is not None
    try:
        target.set_tag(PREVIOUS_TAG + entry.alias, entry.from_version)
    except Exception as exc:
        raise PartialRegistryWrite(
            f"{moved} and ledger entry #{entry.seq} was written, but the tag `{PREVIOUS_TAG}{entry.alias}` "
            f"was not: {cause(exc, tracking)}; rerun the same command to write it",
            state="alias-moved",
        ) from None


def _version_exists(c: MlflowClient, tracking: str, name: str, version: str) -> None:
    try:
        c.get_model_version(name, version)
    except Exception as exc:
        if is_missing(exc):
            raise RegistryError(f"version {version} of `{name}` does not exist (deleted?)") from None
        raise failure(exc, tracking, f"reading `{name}` v{version}") from None


# --- moves ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AliasTarget:
    """What a compare-and-swap moves: a registered model's alias or a prompt's, behind the same rules."""

    where: str
    """How messages name the alias, e.g. ```credit@champion```."""
    lock_action: str
    read: Callable[[], tuple[str | None, dict[str, str], list[LedgerEntry]]]
    """The alias's version now (None: unset), the tags and the ledger read from them."""
    check_version: Callable[[str], object]
    set_alias: Callable[[str], object]
    set_tag: Callable[[str, str], object]
    again: str
    """What to do when the alias moved since the gate, e.g. "gate the candidate again"."""


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
    """Compare-and-swap the registered model's ``name@alias`` to ``to_version`` (see ``compare_and_swap``)."""

    def read() -> tuple[str | None, dict[str, str], list[LedgerEntry]]:
        model = registered_model(c, tracking, name)
        current = model.aliases.get(alias)
        return (None if current is None else str(current)), dict(model.tags), read_ledger(model.tags, name)

    target = AliasTarget(
        where=f"`{name}@{alias}`",
        lock_action=template.action,
        read=read,
        check_version=lambda version: _version_exists(c, tracking, name, version),
        set_alias=lambda version: c.set_registered_model_alias(name, alias, version),
        set_tag=lambda key, value: c.set_registered_model_tag(name, key, value),
        again=f"gate the candidate again against the new `@{alias}`",
    )
    return compare_and_swap(
        c, tracking, target, name=name, alias=alias, to_version=to_version, expected=expected,
        template=template, lock_timeout=lock_timeout,
    )  # fmt: skip


def compare_and_swap(
    c: MlflowClient,
    tracking: str,
    target: AliasTarget,
    *,
    name: str,
    alias: str,
    to_version: str,
    expected: str | object | None,
    template: LedgerEntry,
    lock_timeout: float = 30.0,
) -> MoveResult:
    """Compare-and-swap ``target``'s alias to ``to_version``, under the lock, with a ledger entry.

    ``expected`` is the version the alias must point at now (None: not set);
    ``ANY`` skips the comparison. Already at ``to_version``: completes the
    ledger if a failed run left it short, and moves nothing.
    """
    where = target.where
    with registry_lock(c, tracking, name, target.lock_action, timeout=lock_timeout) as held:
        current, tags, ledger = target.read()
        seq = (ledger[-1].seq if ledger else 0) + 1
        if current == to_version:
            last = next((e for e in reversed(ledger) if e.alias == alias), None)
            if last is not None and last.to_version == to_version:
                if last.from_version is not None and tags.get(PREVIOUS_TAG + alias) != last.from_version:
                    _set_previous(target, tracking, last, f"{where} points at v{to_version}")
                return MoveResult(name, alias, current, to_version, False, None)
            entry = _entry(template, seq, alias, None if expected is ANY else expected, to_version)  # type: ignore[arg-type]
            entry = LedgerEntry(
                **{**asdict(entry), "note": "alias was already moved; ledger completed by a rerun"}
            )
            _append(target, tracking, entry, f"{where} points at v{to_version}")
            return MoveResult(name, alias, entry.from_version, to_version, True, entry)
        if expected is not ANY and current != expected:
            want = f"v{expected}" if expected else "unset"
            now = f"v{current}" if current else "unset"
            raise PromotionRefused(
                f"{where} is {now}, but this {template.action} expected it to be {want} "
                f"(the version the gate compared against); it was moved meanwhile. Nothing was changed: "
                f"{target.again}"
            )
        target.check_version(to_version)
        was = f"v{current}" if current else "unset"
        held.check(f"moving {where} from {was} to v{to_version}")
        try:
            target.set_alias(to_version)
        except Exception as exc:
            if unreachable(exc):
                raise RegistryError(
                    f"moving {where} to v{to_version}: {cause(exc, tracking)}, so the alias was not "
                    f"moved: it is still {was}; rerun the same command when the server is back"
                ) from None
            raise PartialRegistryWrite(
                f"moving {where} from {was} to v{to_version} failed without saying whether it "
                f"happened: {cause(exc, tracking)}; rerun the same command: it reads where the alias is and "
                "finishes the move and its ledger entry",
                state="unknown",
            ) from None
        entry = _entry(template, seq, alias, current, to_version)
        _append(target, tracking, entry, f"{where} was moved from {was} to v{to_version}")
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


def plan_rollback(
    ledger: list[LedgerEntry],
    *,
    name: str,
    label: str,
    alias: str,
    current: str | None,
    to_version: str | None,
    by: str | None,
    reason: str,
) -> MoveResult | tuple[str, LedgerEntry]:
    """The version a rollback moves ``alias`` to and the ledger entry it writes, or the result when
    nothing moves (already rolled back, or already there). Models and prompts share it."""
    if to_version is None:
        target = rollback_target(ledger, alias, current, label)
        if target is None:
            assert current is not None
            return MoveResult(name, alias, current, current, False, None, ("already rolled back",))
    else:
        target = str(to_version)
    if target == current:
        return MoveResult(name, alias, current, target, False, None)
    template = LedgerEntry(
        seq=0,
        action="rollback",
        alias=alias,
        from_version=current,
        to_version=target,
        at="",
        by=actor(by),
        reason=reason,
    )
    return target, template
