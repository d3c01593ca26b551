"""Reading YAML and JSON that may be hostile: size, alias expansion and nesting are capped first.

A config, a data contract or a report can come from a pull request, so a
reader must refuse a bad file quickly and in little memory, never by running
out of either. YAML aliases are shared objects once loaded, but every walk
over the result (the line finder, the validator, ``json.dumps``) expands them,
so a 1 KB file of nested aliases stands for billions of values. The caps are
checked on the parser's event stream, before any node is composed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, MlgateError

MiB = 1024 * 1024
MAX_CONFIG_BYTES = 10 * MiB
"""A YAML or TOML config or data contract larger than this is refused before it is read."""
MAX_JSON_BYTES = 256 * MiB
"""A report, profile or golden JSON file larger than this is refused before it is read."""
MAX_NODES = 100_000
"""Values in a YAML document once every alias is expanded (a real config has a few hundred)."""
MAX_ALIAS_NODES = 5_000
"""Values that aliases may stand for, summed over every alias in a YAML document."""
MAX_DEPTH = 100
"""Nesting of mappings and lists, in YAML and JSON alike."""

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml parses ~10x faster when present


def read_text(path: Path, *, limit: int, what: str, error: type[MlgateError] = ConfigError) -> str:
    """The file's UTF-8 text; a file over ``limit`` bytes is refused without reading the rest."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise error(f"{what} `{path}` does not exist") from None
    except IsADirectoryError:
        raise error(f"{what} `{path}` is a directory, not a file") from None
    except OSError as exc:
        raise error(f"{what} `{path}` cannot be read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise error(
            f"{what} `{path}` is larger than {_size(limit)}; no {what} needs to be that large, "
            "so it is refused before reading"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} `{path}` is not valid UTF-8 text: {exc}") from None


def _size(limit: int) -> str:
    return f"{limit // MiB} MiB" if limit >= MiB else f"{limit:,} bytes"


@dataclass
class _Open:
    """A mapping or list whose end event has not come yet."""

    anchor: str | None
    mapping: bool
    size: int = 1
    at_key: bool = True
    key: str = ""
    index: int = 0
    path: list[str] = field(default_factory=list)


def load_yaml(text: str, where: str) -> tuple[Any, yaml.Node | None]:
    """``yaml.safe_load`` and the composed node tree (for line numbers), within the caps.

    Raises ``ConfigError`` naming ``where``, the line and the key for a document
    too deep, too large once aliases are expanded, or an alias to itself.
    """
    try:
        _check_events(yaml.parse(text, Loader=_Loader), where)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    return data, node


def _check_events(events: Iterable[yaml.Event], where: str) -> None:
    sizes: dict[str, int] = {}
    stack: list[_Open] = []
    total = aliased = 0

    def refuse(event: yaml.Event, problem: str) -> ConfigError:
        key = ".".join(_path(stack)) or "(top level)"
        line = f", line {event.start_mark.line + 1}" if event.start_mark is not None else ""
        return ConfigError(f"{where}{line}: at `{key}`: {problem}")

    for event in events:
        if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            done = stack.pop()
            if done.anchor is not None:
                sizes[done.anchor] = done.size
            if stack:
                stack[-1].size += done.size
                _advance(stack[-1], None)
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        if isinstance(event, yaml.AliasEvent):
            if any(o.anchor == event.anchor for o in stack):
                raise refuse(event, f"alias `*{event.anchor}` refers to a value that contains it")
            size = sizes.get(str(event.anchor), 1)  # an undefined alias is the composer's error to report
            aliased += size
            if aliased > MAX_ALIAS_NODES:
                raise refuse(
                    event,
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} values (an alias bomb?); "
                    "write the values out, or use fewer aliases",
                )
        else:
            size = 1
        total += size
        if total > MAX_NODES:
            raise refuse(
                event, f"the document holds more than {MAX_NODES:,} values once aliases are expanded"
            )
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(stack) >= MAX_DEPTH:
                raise refuse(event, f"mappings and lists are nested more than {MAX_DEPTH} deep")
            stack.append(_Open(event.anchor, isinstance(event, yaml.MappingStartEvent)))
            continue
        if isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
            sizes[event.anchor] = 1
        if stack:
            stack[-1].size += size
            _advance(stack[-1], event.value if isinstance(event, yaml.ScalarEvent) else None)


def _advance(parent: _Open, scalar: str | None) -> None:
    """One child of ``parent`` is complete: a mapping alternates key and value."""
    if not parent.mapping:
        parent.index += 1
    elif parent.at_key:
        parent.key, parent.at_key = scalar if scalar is not None else "?", False
    else:
        parent.at_key = True


def _path(stack: list[_Open]) -> list[str]:
    """The key path of the value being read, for the message (its first steps, for a deep one)."""
    out = []
    for frame in stack:
        if frame.mapping:
            if not frame.at_key:
                out.append(frame.key)
        else:
            out.append(str(frame.index))
    return out if len(out) <= _SHOWN else [*out[:_SHOWN], "…"]


_SHOWN = 6


def load_json(path: Path, *, what: str, error: type[MlgateError], limit: int = MAX_JSON_BYTES) -> Any:
    """A JSON file within the size and nesting caps; ``error`` names the file otherwise."""
    text = read_text(path, limit=limit, what=what, error=error)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} `{path}` is not valid JSON: {exc}") from None
    except RecursionError:
        raise error(f"{what} `{path}` nests lists and objects more than {MAX_DEPTH} deep") from None
    deep = too_deep(data)
    if deep is not None:
        raise error(f"{what} `{path}`: `{deep}` nests lists and objects more than {MAX_DEPTH} deep")
    return data


def too_deep(data: Any, limit: int = MAX_DEPTH) -> str | None:
    """The JSON path of the first value nested deeper than ``limit``, or None; no recursion.

    Only containers are visited and a path is spelled out only for the answer: a profile holds
    hundreds of thousands of numbers, and naming each one's path cost more than parsing the file.
    """
    if not isinstance(data, (dict, list)):
        return None
    # (container, depth, trail): a trail is (parent trail, key or index, whether the key is a name).
    todo: list[tuple[Any, int, Any]] = [(data, 0, None)]
    while todo:
        value, depth, trail = todo.pop()
        if depth >= limit:
            return _spell(trail)
        named = isinstance(value, dict)
        for key, child in value.items() if named else enumerate(value):
            if isinstance(child, (dict, list)):
                todo.append((child, depth + 1, (trail, key, named)))
    return None


def _spell(trail: Any) -> str:
    """``$.a[0].b…``: the first steps of a trail, as the messages show paths."""
    steps: list[str] = []
    while trail is not None:
        trail, key, named = trail
        steps.append(f".{key}" if named else f"[{key}]")
    steps.reverse()
    return "$" + "".join(steps[:_SHOWN]) + ("…" if len(steps) > _SHOWN else "")
