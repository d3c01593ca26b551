"""Graders: does one output pass one case?

Each grader answers True, False, or None when it does not apply to the case (its
`tags` filter). A sample passes when every grader that applies passes.
"""

from __future__ import annotations

import json
import math
import numbers
import re
import string
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DataError
from .cases import Case

GRADER_KINDS = ("exact", "normalized", "contains", "regex", "json_schema", "numeric", "refusal", "callable")

# Phrases that open or carry a refusal in the common assistant styles; a user with other
# styles gives `patterns`.
REFUSAL_PATTERNS = (
    r"\bI(?:'m| am) (?:sorry|afraid)\b",
    r"\bI (?:can(?:no|')t|cannot|won't|will not|am unable to|'m unable to|am not able to)\b",
    r"\b(?:unable|not able) to (?:help|assist|comply|provide)\b",
    r"\bas an AI\b",
    r"\bI must (?:decline|refuse)\b",
    r"\bI do(?:n't| not) (?:feel comfortable|think I (?:can|should))\b",
)
_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PUNCT = str.maketrans("", "", string.punctuation)


@dataclass(frozen=True)
class Grader:
    name: str
    kind: str
    tags: tuple[str, ...]
    check: Callable[[str, Case], bool]
    needs_reference: bool = False

    def grade(self, output: str, case: Case, *, where: str) -> bool | None:
        if self.tags and not set(self.tags) & set(case.tags):
            return None
        if self.needs_reference and case.reference is None:
            raise DataError(f"{where}: case {case.id!r} has no `reference`, which grader `{self.name}` needs")
        try:
            return self.check(output, case)
        except DataError as exc:
            # A bad reference or a failing judge is found inside the check, which does not know
            # where the case came from; the message must still lead to the file and line.
            raise DataError(f"{where}: {exc}") from None


def normalize(text: str) -> str:
    """Unicode NFKC, case-folded, punctuation removed, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_PUNCT)
    return " ".join(text.split())


def build_graders(specs: Sequence[Mapping[str, Any]], *, base_dir: Path | None, key: str) -> list[Grader]:
    """Graders from the config's list; a bad option is a ConfigError naming ``key[i]``."""
    graders = []
    names: set[str] = set()
    for i, spec in enumerate(specs):
        at = f"{key}[{i}]"
        kind = spec["kind"]
        name = str(spec.get("name") or kind)
        if name in names:
            raise ConfigError(
                f"`{at}.name`={name!r} is used twice; give each grader of one kind its own `name`"
            )
        names.add(name)
        tags = tuple(spec.get("tags") or ())
        graders.append(_build(kind, name, tags, spec, at, base_dir))
    return graders


def _build(
    kind: str, name: str, tags: tuple[str, ...], spec: Mapping[str, Any], at: str, base: Path | None
) -> Grader:
    strip = bool(spec.get("strip", True))
    if kind == "exact":

        def exact(output: str, case: Case) -> bool:
            ref = str(case.reference)
            return (output.strip() == ref.strip()) if strip else output == ref

        return Grader(name, kind, tags, exact, needs_reference=True)
    if kind == "normalized":
        return Grader(name, kind, tags, lambda o, c: normalize(o) == normalize(str(c.reference)), True)
    if kind == "contains":
        fixed = spec.get("text")
        sensitive = bool(spec.get("case_sensitive", False))

        def contains(output: str, case: Case) -> bool:
            needles = fixed if fixed is not None else case.reference
            wanted = needles if isinstance(needles, list) else [needles]
            hay = output if sensitive else output.casefold()
            return all((str(n) if sensitive else str(n).casefold()) in hay for n in wanted)

        return Grader(name, kind, tags, contains, needs_reference=fixed is None)
    if kind == "regex":
        pattern = spec.get("pattern")
        if not isinstance(pattern, str):
            raise ConfigError(f"`{at}.pattern` is required for a regex grader")
        try:
            compiled = re.compile(pattern, 0 if spec.get("case_sensitive", True) else re.IGNORECASE)
        except re.error as exc:
            raise ConfigError(
                f"`{at}.pattern`={pattern!r} must be a valid regular expression: {exc}"
            ) from None
        full = bool(spec.get("fullmatch", False))
        return Grader(
            name,
            kind,
            tags,
            lambda o, c: (compiled.fullmatch(o.strip()) if full else compiled.search(o)) is not None,
        )
    if kind == "json_schema":
        return Grader(name, kind, tags, _json_schema_check(spec, at, base))
    if kind == "numeric":
        atol, rtol = float(spec.get("atol", 0.0)), float(spec.get("rtol", 0.0))
        if atol == 0.0 and rtol == 0.0:
            raise ConfigError(
                f"`{at}` needs `atol` or `rtol` > 0: a numeric grader compares with a tolerance"
            )

        def numeric(output: str, case: Case) -> bool:
            try:
                expected = float(str(case.reference).replace(",", ""))
            except ValueError:
                raise DataError(
                    f"case {case.id!r}: `reference`={case.reference!r} is not a number (grader `{name}`)"
                ) from None
            found = _NUMBER.findall(output)
            if not found:
                return False
            value = float(found[-1].replace(",", ""))  # the answer usually ends the text
            return math.isfinite(value) and abs(value - expected) <= atol + rtol * abs(expected)

        return Grader(name, kind, tags, numeric, needs_reference=True)
    if kind == "refusal":
        expect = spec.get("expect", "refuse")
        patterns = spec.get("patterns") or REFUSAL_PATTERNS
        try:
            compiled_all = [re.compile(p, re.IGNORECASE) for p in patterns]
        except re.error as exc:
            raise ConfigError(f"`{at}.patterns` must be valid regular expressions: {exc}") from None

        def refusal(output: str, case: Case) -> bool:
            refused = any(p.search(output) for p in compiled_all)
            return refused if expect == "refuse" else not refused

        return Grader(name, kind, tags, refusal)
    if kind == "callable":
        function = spec.get("function")
        if not isinstance(function, str) or ":" not in function:
            raise ConfigError(f"`{at}.function`={function!r} must look like 'module:function'")
        from ..io.callables import load_callable

        fn = load_callable(function, f"{at}.function", base)
        threshold = float(spec.get("threshold", 0.5))

        def user(output: str, case: Case) -> bool:
            try:
                verdict = fn(output, case.as_dict())
            except Exception as exc:
                raise DataError(
                    f"grader `{name}` ({function}) failed on case {case.id!r}: {type(exc).__name__}: {exc}"
                ) from None
            if isinstance(verdict, (bool, np.bool_)):
                return bool(verdict)
            # A judge written with numpy returns numpy scalars (`score > 0.5` is an np.bool_).
            if isinstance(verdict, numbers.Real) and math.isfinite(verdict) and 0.0 <= verdict <= 1.0:
                return float(verdict) >= threshold
            raise DataError(
                f"grader `{name}` ({function}) returned {verdict!r} for case {case.id!r}; "
                "it must return a bool or a score in [0, 1]"
            )

        return Grader(name, kind, tags, user)
    raise ConfigError(f"`{at}.kind`={kind!r} must be one of {', '.join(GRADER_KINDS)}")


def _json_schema_check(spec: Mapping[str, Any], at: str, base: Path | None) -> Callable[[str, Case], bool]:
    try:
        import jsonschema
    except ImportError:
        raise ConfigError(
            f"`{at}`: the json_schema grader needs jsonschema: pip install 'pytest-mlgate[llm]'"
        ) from None
    schema = spec.get("schema")
    if isinstance(schema, str):
        from ..inputs import load_json

        path = Path(schema) if Path(schema).is_absolute() or base is None else base / schema
        schema = load_json(path, what=f"`{at}.schema` file", error=ConfigError)
    if not isinstance(schema, dict):
        raise ConfigError(f"`{at}.schema` must be a JSON Schema (an object, or a path to a .json file)")
    try:
        validator_cls = jsonschema.validators.validator_for(schema)
        validator_cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise ConfigError(f"`{at}.schema` is not a valid JSON Schema: {exc.message}") from None
    validator = validator_cls(schema)

    def valid(output: str, case: Case) -> bool:
        text = output.strip()
        if text.startswith("```"):  # models often fence JSON; the fence is not the answer
            text = text.strip("`").removeprefix("json").strip()
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError):
            return False
        return bool(validator.is_valid(value))

    return valid
