"""Reading a JSON report back: checked against the published report schema before anything uses it.

A report can come from an untrusted job (the workflow_run pattern) or be edited
by hand, and every reader (``mlgate report``, ``github publish``, ``promote``)
indexes into it. A wrong shape must be a message naming the file and the JSON
path, not a ``TypeError`` three calls later. The rules come from
``schemas/report.schema.json`` itself, read by the small subset of JSON Schema
it uses, so the check cannot drift from the contract and the core needs no
``jsonschema``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..inputs import MAX_DEPTH, MAX_JSON_BYTES, read_text, too_deep

_TYPES: dict[str, Any] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}


@functools.cache
def report_schema() -> dict[str, Any]:
    text = files("pytest_mlgate").joinpath("schemas/report.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def written_minor() -> int:
    from ..results import SCHEMA_VERSION

    return int(SCHEMA_VERSION.split(".")[1])


def read_report(path: Path) -> dict[str, Any]:
    """The report at ``path``, or a ``DataError`` naming the file and the JSON path of what is wrong."""
    return read_report_and_sha256(path)[0]


def read_report_and_sha256(path: Path) -> tuple[dict[str, Any], str]:
    """The report and the sha256 of the very bytes it was parsed from.

    Promotion compares that digest with the one the registry logged: hashing a second read of the
    file would let it be swapped in between.
    """
    if not path.is_file():
        raise DataError(f"report file `{path}` does not exist; run `mlgate gate` or `pytest --mlgate` first")
    text = read_text(path, limit=MAX_JSON_BYTES, what="report file", error=DataError)
    # A strict UTF-8 decode round-trips exactly, so these are the file's bytes.
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        reason = (
            "it nests lists and objects too deep to read"
            if isinstance(exc, RecursionError)
            else f"not valid JSON: {exc}"
        )
        raise DataError(f"report file `{path}` is not an mlgate JSON report: {reason}") from None
    deep = too_deep(data)
    if deep is not None:
        raise DataError(
            f"report file `{path}` is malformed: `{deep}` nests lists and objects more than {MAX_DEPTH} deep"
        )
    if not isinstance(data, dict):
        raise DataError(
            f"report file `{path}` is not an mlgate JSON report: it holds {_kind(data)}, not an object"
        )
    version = data.get("schema_version")
    if not isinstance(version, str) or not re.fullmatch(r"[0-9]+\.[0-9]+", version):
        raise DataError(
            f"report file `{path}` is not an mlgate JSON report: "
            + _bad("$.schema_version", version, 'be a version like "1.5"')
        )
    if version.split(".")[0] != "1":
        raise DataError(f"report file `{path}` has schema_version {version}; this mlgate reads 1.x")
    # Fields are only ever added within 1.x, so a newer minor may carry keys this schema does not know.
    strict = int(version.split(".")[1]) <= written_minor()
    problem = shape_problem(data, report_schema(), strict=strict)
    if problem is not None:
        raise DataError(f"report file `{path}` is malformed: {problem} (see `mlgate schema report`)")
    return data, digest


def shape_problem(value: Any, schema: Mapping[str, Any], *, strict: bool = True) -> str | None:
    """The first way ``value`` breaks ``schema``, as "`$.path`=value must ...", or None."""
    return _check(value, schema, "$", schema, strict)


def _check(
    value: Any, schema: Mapping[str, Any], at: str, root: Mapping[str, Any], strict: bool
) -> str | None:
    if "$ref" in schema:
        ref = str(schema["$ref"])
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return _check(value, target, at, root, strict)
    if "oneOf" in schema:
        problems = [_check(value, branch, at, root, strict) for branch in schema["oneOf"]]
        if any(p is None for p in problems):
            return None
        # The branch whose type fits says the most useful thing.
        fitting = [p for p, b in zip(problems, schema["oneOf"], strict=True) if _type_fits(value, b)]
        return fitting[0] if fitting else _bad(at, value, f"be {_describe_types(schema['oneOf'])}")
    if "type" in schema and not _type_fits(value, schema):
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return _bad(at, value, "be " + " or ".join(_article(t) for t in types))
    if "enum" in schema and value not in schema["enum"]:
        shown = ", ".join("null" if e is None else str(e) for e in schema["enum"])
        return _bad(at, value, f"be one of {shown}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        return _bad(at, value, f"match {schema['pattern']}")
    if _TYPES["number"](value):
        if (
            isinstance(value, float)
            and math.isnan(value)
            and any(k in schema for k in ("minimum", "exclusiveMinimum"))
        ):
            return _bad(at, value, "be a number")
        if "minimum" in schema and value < schema["minimum"]:
            return _bad(at, value, f"be >= {schema['minimum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            return _bad(at, value, f"be > {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            return _bad(at, value, f"be < {schema['exclusiveMaximum']}")
    if isinstance(value, list):
        return _check_list(value, schema, at, root, strict)
    if isinstance(value, dict):
        return _check_object(value, schema, at, root, strict)
    return None


def _check_list(
    value: list[Any], schema: Mapping[str, Any], at: str, root: Mapping[str, Any], strict: bool
) -> str | None:
    low, high = schema.get("minItems"), schema.get("maxItems")
    if (low is not None and len(value) < low) or (high is not None and len(value) > high):
        count = f"{low}" if low == high else f"{low or 0} to {high if high is not None else 'any number of'}"
        return _bad(at, value, f"hold {count} items, not {len(value)}")
    if "items" in schema:
        for i, item in enumerate(value):
            problem = _check(item, schema["items"], f"{at}[{i}]", root, strict)
            if problem is not None:
                return problem
    return None


def _check_object(
    value: dict[str, Any], schema: Mapping[str, Any], at: str, root: Mapping[str, Any], strict: bool
) -> str | None:
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            problem = _check(item, properties[name], f"{at}.{name}", root, strict)
        elif extra is False:
            problem = f"`{at}.{name}` is not a key of the report schema" if strict else None
        elif isinstance(extra, Mapping):
            problem = _check(item, extra, f"{at}.{name}", root, strict)
        else:
            problem = None
        if problem is not None:
            return problem
    # After the keys that are there: a wrong `decision` says more than a missing `summary`.
    for name in schema.get("required", []):
        if name not in value:
            return f"`{at}.{name}` is missing"
    return None


def _type_fits(value: Any, schema: Mapping[str, Any]) -> bool:
    if "type" not in schema:
        return True
    types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    return any(_TYPES[t](value) for t in types)


def _describe_types(branches: Any) -> str:
    out = []
    for branch in branches:
        kind = branch.get("type", "value")
        if (
            kind == "array"
            and branch.get("minItems") is not None
            and branch.get("minItems") == branch.get("maxItems")
        ):
            out.append(f"a list of {branch['minItems']}")
        else:
            out.append(_article(kind) if isinstance(kind, str) else " or ".join(map(_article, kind)))
    return " or ".join(out)


def _article(kind: str) -> str:
    return {"null": "null", "array": "a list", "object": "an object", "integer": "an integer"}.get(
        kind, f"a {kind}"
    )


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _bad(at: str, value: Any, must: str) -> str:
    shown = json.dumps(value, default=str)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"`{at}`={shown} must {must}"
