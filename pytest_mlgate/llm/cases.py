"""Golden cases and output records: reading, validating, and matching outputs to cases.

Every complaint names the file (or the config key of a generated source), the line
and the case id, and is a ``DataError`` (exit 3): a golden set or an outputs file
the gate cannot trust is never judged.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError
from ..inputs import MAX_JSON_BYTES, read_text, too_deep

_SHOWN = 5
"""How many offending ids a message lists before it says how many more there are."""


@dataclass(frozen=True)
class Case:
    """One golden (or injection) case."""

    id: str
    input: Any
    reference: Any = None
    tags: tuple[str, ...] = ()
    line: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Other fields of the record (e.g. an injection case's `forbidden` strings)."""

    def as_dict(self) -> dict[str, Any]:
        """The mapping a generator or a user grader receives."""
        return {
            **self.extra,
            "id": self.id,
            "input": self.input,
            "reference": self.reference,
            "tags": list(self.tags),
        }


@dataclass(frozen=True)
class CaseSet:
    path: Path
    sha256: str
    cases: tuple[Case, ...]

    def where(self, case: Case) -> str:
        return f"`{self.path}`, line {case.line}"


@dataclass(frozen=True)
class Output:
    """One generated sample for one case."""

    id: str
    output: str
    sample: int
    line: int
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_ms: float | None = None
    model: str | None = None
    prompt: str | None = None


def read_cases(path: Path, *, what: str) -> CaseSet:
    """A golden set (JSONL, or CSV with `;`-joined tags); ids must be present and unique."""
    text = read_text(path, limit=MAX_JSON_BYTES, what=what, error=DataError)
    records = _records(text, path, what)
    cases: list[Case] = []
    first_line: dict[str, int] = {}
    for line, record in records:
        at = f"{what} `{path}`, line {line}"
        case_id = _case_id(record, at)
        if case_id in first_line:
            raise DataError(f"{at}: id {case_id!r} is a duplicate of line {first_line[case_id]}")
        first_line[case_id] = line
        if "input" not in record or record["input"] is None or record["input"] == "":
            raise DataError(f"{at}: case {case_id!r} has no `input`")
        tags = record.get("tags")
        if tags is None or tags == "":
            tag_tuple: tuple[str, ...] = ()
        elif isinstance(tags, str):
            tag_tuple = tuple(t.strip() for t in tags.split(";") if t.strip())
        elif isinstance(tags, list) and all(isinstance(t, str) for t in tags):
            tag_tuple = tuple(tags)
        else:
            raise DataError(f"{at}: `tags` of case {case_id!r} must be a list of strings, got {tags!r}")
        reference = record.get("reference")
        if reference == "" and path.suffix.lower() == ".csv":
            reference = None  # an empty CSV cell is "no reference", not the empty string
        extra = {k: v for k, v in record.items() if k not in ("id", "input", "reference", "tags")}
        if path.suffix.lower() == ".csv":
            extra = {k: None if v == "" else v for k, v in extra.items()}  # an empty cell has no value
        cases.append(Case(case_id, record["input"], reference, tag_tuple, line, extra))
    if not cases:
        raise DataError(f"{what} `{path}` has no cases")
    return CaseSet(path, hashlib.sha256(text.encode("utf-8")).hexdigest(), tuple(cases))


def read_output_records(path: Path, *, what: str) -> tuple[list[tuple[int, dict[str, Any]]], str]:
    """An outputs file's records with their line numbers, and the file's sha256."""
    text = read_text(path, limit=MAX_JSON_BYTES, what=what, error=DataError)
    if path.suffix.lower() == ".csv":
        raise DataError(f"{what} `{path}` must be JSON lines (one output record per line), not CSV")
    return _records(text, path, what), hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_outputs(
    records: Iterable[tuple[int, Mapping[str, Any]]],
    known: Mapping[str, Case],
    *,
    where: str,
    line_word: str = "line",
) -> dict[str, list[Output]]:
    """Output records grouped by case id; unknown ids, repeated samples and bad fields are errors.

    ``where`` names the file or the config key the records came from.
    """
    out: dict[str, list[Output]] = {}
    seen: dict[tuple[str, int], int] = {}
    for line, record in records:
        at = f"{where}, {line_word} {line}"
        if not isinstance(record, Mapping):
            raise DataError(f"{at}: an output record must be a JSON object, got {type(record).__name__}")
        case_id = _case_id(record, at)
        if case_id not in known:
            raise DataError(f"{at}: output for unknown id {case_id!r}: no golden or injection case has it")
        output = record.get("output")
        if not isinstance(output, str):
            raise DataError(f"{at}: `output` of id {case_id!r} must be a string, got {output!r}")
        sample = record.get("sample", 0)
        if not _is_int(sample) or sample < 0:
            raise DataError(f"{at}: `sample`={sample!r} of id {case_id!r} must be an integer >= 0")
        if (case_id, int(sample)) in seen:
            first = seen[(case_id, int(sample))]
            raise DataError(
                f"{at}: id {case_id!r} sample {sample} is given twice (first on {line_word} {first})"
            )
        seen[(case_id, int(sample))] = line
        tokens = {}
        for name in ("tokens_in", "tokens_out"):
            value = record.get(name)
            if value is not None and (not _is_int(value) or value < 0):
                raise DataError(f"{at}: `{name}`={value!r} of id {case_id!r} must be an integer >= 0")
            tokens[name] = None if value is None else int(value)
        latency = record.get("latency_ms")
        if latency is not None and (
            isinstance(latency, bool)
            or not isinstance(latency, (int, float))
            or not math.isfinite(latency)
            or latency < 0
        ):
            raise DataError(f"{at}: `latency_ms`={latency!r} of id {case_id!r} must be a finite number >= 0")
        model, prompt = record.get("model"), record.get("prompt")
        for name, value in (("model", model), ("prompt", prompt)):
            if value is not None and not isinstance(value, str):
                raise DataError(f"{at}: `{name}`={value!r} of id {case_id!r} must be a string")
        out.setdefault(case_id, []).append(
            Output(
                id=case_id,
                output=output,
                sample=int(sample),
                line=line,
                tokens_in=tokens["tokens_in"],
                tokens_out=tokens["tokens_out"],
                latency_ms=None if latency is None else float(latency),
                model=model,
                prompt=prompt,
            )
        )
    return out


def require_coverage(
    outputs: Mapping[str, Sequence[Output]], cases: Sequence[Case], *, where: str, what: str
) -> None:
    """Every case needs at least one output: a case left out must not silently drop from the rate."""
    missing = [c.id for c in cases if not outputs.get(c.id)]
    if missing:
        shown = ", ".join(repr(m) for m in missing[:_SHOWN])
        more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
        raise DataError(f"{where} has no output for {len(missing)} {what} case(s): {shown}{more}")


def require_field(
    outputs: Mapping[str, Sequence[Output]], name: str, *, where: str, why: str, line_word: str = "line"
) -> None:
    """Every record must carry ``name`` (token counts when a budget is set, latency when a limit is)."""
    for records in outputs.values():
        for record in records:
            if getattr(record, name) is None:
                raise DataError(
                    f"{where}, {line_word} {record.line}: id {record.id!r} has no `{name}`, which {why} needs"
                )


def _records(text: str, path: Path, what: str) -> list[tuple[int, dict[str, Any]]]:
    text = text.removeprefix("\ufeff")  # a byte-order mark (Excel's CSV, some editors) is not data
    if path.suffix.lower() == ".csv":
        return _csv_records(text, path, what)
    records = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        at = f"{what} `{path}`, line {number}"
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DataError(f"{at}: not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise DataError(f"{at}: nested too deep") from None
        if not isinstance(record, dict):
            raise DataError(f"{at}: each line must be a JSON object, got {type(record).__name__}")
        deep = too_deep(record)
        if deep is not None:
            raise DataError(f"{at}: `{deep}` is nested too deep")
        records.append((number, record))
    return records


def _csv_records(text: str, path: Path, what: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    for column in ("id", "input"):
        if column not in header:
            raise DataError(
                f"{what} `{path}` has no `{column}` column (columns: {', '.join(header) or 'none'})"
            )
    records = []
    try:
        for row in reader:
            if None in row:
                raise DataError(f"{what} `{path}`, line {reader.line_num}: more cells than columns")
            records.append((reader.line_num, dict(row)))
    except csv.Error as exc:
        raise DataError(f"{what} `{path}`, line {reader.line_num}: not valid CSV: {exc}") from None
    return records


def _case_id(record: Mapping[str, Any], at: str) -> str:
    value = record.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value).strip() == "":
        said = "missing `id`" if value is None or value == "" else f"`id`={value!r} is not a usable id"
        raise DataError(f"{at}: {said} (each record needs a non-empty string or integer id)")
    return str(value)


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
