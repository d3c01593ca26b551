"""Each grader on outputs that must pass and outputs that must fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_mlgate.errors import ConfigError, DataError
from pytest_mlgate.llm.cases import Case
from pytest_mlgate.llm.graders import build_graders, normalize


def _grade(
    spec: dict[str, Any],
    output: str,
    reference: Any = None,
    tags: tuple[str, ...] = (),
    base: Path | None = None,
) -> bool | None:
    (grader,) = build_graders([spec], base_dir=base, key="llm.graders")
    return grader.grade(output, Case("c1", "question", reference, tags, line=3), where="golden.jsonl, line 3")


@pytest.mark.parametrize(
    ("spec", "output", "reference", "expected"),
    [
        ({"kind": "exact"}, " Paris\n", "Paris", True),
        ({"kind": "exact", "strip": False}, " Paris", "Paris", False),
        ({"kind": "exact"}, "paris", "Paris", False),
        ({"kind": "normalized"}, "  PARIS!! ", "paris", True),
        ({"kind": "normalized"}, "Paris, France", "Paris", False),
        ({"kind": "contains"}, "The capital is Paris.", "paris", True),
        ({"kind": "contains", "case_sensitive": True}, "The capital is paris.", "Paris", False),
        ({"kind": "contains", "text": "refund"}, "We will refund you", None, True),
        ({"kind": "contains"}, "It is in Lyon and Paris", ["Lyon", "Paris"], True),
        ({"kind": "contains"}, "It is in Lyon", ["Lyon", "Paris"], False),
        ({"kind": "regex", "pattern": r"\bSKU-\d{4}\b"}, "Order SKU-1234 shipped", None, True),
        ({"kind": "regex", "pattern": r"SKU-\d{4}", "fullmatch": True}, "Order SKU-1234", None, False),
        ({"kind": "numeric", "atol": 0.01}, "The total is 1,234.50 EUR", "1234.5", True),
        ({"kind": "numeric", "atol": 0.01}, "Roughly 12 items, 1230 in all", "1234.5", False),
        ({"kind": "numeric", "rtol": 0.01}, "answer: 99.5", "100", True),
        ({"kind": "numeric", "atol": 0.01}, "no idea", "3", False),
        ({"kind": "refusal"}, "I'm sorry, but I can't help with that.", None, True),
        ({"kind": "refusal"}, "Here is how to reset your password.", None, False),
        ({"kind": "refusal", "expect": "answer"}, "I cannot do that.", None, False),
        ({"kind": "refusal", "expect": "answer"}, "Sure, here it is.", None, True),
    ],
)
def test_grader_verdicts(spec: dict[str, Any], output: str, reference: Any, expected: bool) -> None:
    assert _grade(spec, output, reference) is expected


def test_json_schema_grader_reads_a_schema_file(tmp_path: Path) -> None:
    (tmp_path / "order.json").write_text(
        json.dumps({"type": "object", "required": ["sku", "qty"], "properties": {"qty": {"type": "integer"}}})
    )
    spec = {"kind": "json_schema", "schema": "order.json"}

    assert _grade(spec, '{"sku": "A1", "qty": 2}', base=tmp_path) is True
    assert _grade(spec, '```json\n{"sku": "A1", "qty": 2}\n```', base=tmp_path) is True
    assert _grade(spec, '{"sku": "A1", "qty": "two"}', base=tmp_path) is False
    assert _grade(spec, "sku A1, qty 2", base=tmp_path) is False


def test_tags_limit_where_a_grader_applies() -> None:
    spec = {"kind": "refusal", "tags": ["unsafe"]}

    assert _grade(spec, "Sure!", tags=("facts",)) is None
    assert _grade(spec, "Sure!", tags=("unsafe",)) is False


def test_callable_grader_takes_bools_and_scores(tmp_path: Path) -> None:
    (tmp_path / "judges.py").write_text(
        "def score(output, case):\n    return 0.8 if case['reference'] in output else 0.2\n"
        "def broken(output, case):\n    return 'yes'\n"
        "def crash(output, case):\n    raise RuntimeError('judge down')\n"
        "import numpy as np\n"
        "def numpy_judge(output, case):\n    return np.float64(0.9) > 0.5 if 'blue' in output else np.int64(0)\n"
    )
    spec = {"kind": "callable", "function": "judges:score", "threshold": 0.7}

    assert _grade(spec, "it is blue", "blue", base=tmp_path) is True
    assert _grade(spec, "it is red", "blue", base=tmp_path) is False
    numpy_judge = {"kind": "callable", "function": "judges:numpy_judge"}
    assert _grade(numpy_judge, "blue", "y", base=tmp_path) is True
    assert _grade(numpy_judge, "red", "y", base=tmp_path) is False
    # The message leads to the case's file and line, not only its id.
    with pytest.raises(DataError, match=r"^golden.jsonl, line 3: grader .* returned 'yes' for case 'c1'"):
        _grade({"kind": "callable", "function": "judges:broken"}, "x", "y", base=tmp_path)
    with pytest.raises(
        DataError, match=r"^golden.jsonl, line 3: grader .* failed on case 'c1': RuntimeError: judge down"
    ):
        _grade({"kind": "callable", "function": "judges:crash"}, "x", "y", base=tmp_path)


def test_a_reference_that_is_not_a_number_names_the_file_and_line() -> None:
    with pytest.raises(
        DataError, match=r"^golden.jsonl, line 3: case 'c1': `reference`='abc' is not a number"
    ):
        _grade({"kind": "numeric", "atol": 0.1}, "5", "abc")


def test_a_grader_that_needs_a_reference_names_the_case() -> None:
    with pytest.raises(
        DataError, match=r"golden.jsonl, line 3: case 'c1' has no `reference`, which grader `exact`"
    ):
        _grade({"kind": "exact"}, "anything", None)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "numeric"}, r"`llm.graders\[0\]` needs `atol` or `rtol`"),
        (
            {"kind": "regex", "pattern": "(("},
            r"`llm.graders\[0\].pattern`='\(\(' must be a valid regular expression",
        ),
        ({"kind": "callable", "function": "nocolon"}, r"must look like 'module:function'"),
        ({"kind": "json_schema", "schema": {"type": 5}}, r"not a valid JSON Schema"),
    ],
)
def test_bad_grader_options_are_config_errors(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_graders([spec], base_dir=None, key="llm.graders")


def test_two_graders_of_one_kind_need_names() -> None:
    with pytest.raises(ConfigError, match=r"`llm.graders\[1\].name`='contains' is used twice"):
        build_graders(
            [{"kind": "contains"}, {"kind": "contains", "text": "x"}], base_dir=None, key="llm.graders"
        )


def test_normalize() -> None:
    assert normalize("  Ｐaris,\tFRANCE! ") == "paris france"
