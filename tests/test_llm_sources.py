"""The LLM gate's sources: a local function, an OpenAI-compatible server, prompt files and MLflow's
prompt registry (resolving, promoting and rolling back an alias), and the example under examples/llm.

The OpenAI-compatible server is a real HTTP server on 127.0.0.1 written here: it checks each
request's shape (path, headers, body) and answers as the Chat Completions API does. The prompt
registry is a real `mlflow server` (tests/mlflow_parts.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pytest_mlgate.errors import ConfigError, DataError
from pytest_mlgate.llm.generate import generate_outputs, prompt_sha256
from pytest_mlgate.llm.prompts import resolve_prompt

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "llm"
CANARY = "CANARY-7f3a9c"
KEY = "sk-test-0123456789abcdef"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


CASES = [
    {"id": "a", "input": "What is 2 + 2?", "reference": "4", "tags": ["math"]},
    {"id": "b", "input": "Name a colour.", "reference": "red", "tags": []},
]


# --- a local function ---------------------------------------------------------------------------


def write_module(folder: Path, name: str, body: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(body, encoding="utf-8")


def test_function_source_gives_one_record_per_case_and_sample_with_the_prompt_identity(
    tmp_path: Path,
) -> None:
    write_module(
        tmp_path,
        "echo_model",
        "def answer(text, *, prompt=None, sample=0):\n"
        "    return {'output': f'{text}|{prompt}|{sample}', 'tokens_in': len(text), 'tokens_out': 3,\n"
        "            'latency_ms': 10 + sample, 'model': 'echo-1'}\n",
    )
    records = generate_outputs(
        CASES,
        {"function": "echo_model:answer"},
        samples=2,
        prompt="Be brief.",
        key="llm.candidate",
        base_dir=tmp_path,
    )
    assert [(r["id"], r["sample"]) for r in records] == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert records[1]["output"] == "What is 2 + 2?|Be brief.|1"
    assert records[1]["latency_ms"] == 11.0 and records[0]["tokens_in"] == len("What is 2 + 2?")
    assert {r["model"] for r in records} == {"echo-1"}
    assert {r["prompt"] for r in records} == {hashlib.sha256(b"Be brief.").hexdigest()}
    assert set(records[0]) == {
        "id",
        "output",
        "sample",
        "tokens_in",
        "tokens_out",
        "latency_ms",
        "model",
        "prompt",
    }


def test_a_function_returning_text_is_timed_and_a_function_without_sample_is_called_without_it(
    tmp_path: Path,
) -> None:
    write_module(tmp_path, "plain_model", "def answer(text):\n    return text.upper()\n")
    records = generate_outputs(
        CASES, {"function": "plain_model:answer"}, samples=1, prompt=None, key="k", base_dir=tmp_path
    )
    assert [r["output"] for r in records] == ["WHAT IS 2 + 2?", "NAME A COLOUR."]
    assert all(r["latency_ms"] >= 0 and r["tokens_in"] is None and r["prompt"] is None for r in records)
    assert records[0]["model"] == "plain_model:answer"


def test_a_module_in_the_config_folder_wins_over_one_of_the_same_name_elsewhere(tmp_path: Path) -> None:
    # `json` is imported everywhere: a folder's json.py must still be the one the config means.
    write_module(tmp_path, "json", "def answer(text, **kw):\n    return 'local'\n")
    records = generate_outputs(
        CASES[:1], {"function": "json:answer"}, samples=1, prompt="p", key="k", base_dir=tmp_path
    )
    assert records[0]["output"] == "local"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "def answer(text, **kw):\n    raise RuntimeError('backend down')\n",
            "case `a` sample 0 (llm.candidate): the function failed: RuntimeError: backend down",
        ),
        (
            "def answer(text, **kw):\n    return 42\n",
            "case `a` sample 0 (llm.candidate): the function failed: TypeError",
        ),
        (
            "def answer(text, **kw):\n    return {'output': 'x', 'tokens_in': -1}\n",
            "`tokens_in`=-1 must be a whole number >= 0",
        ),
        (
            "def answer(text, **kw):\n    return {'output': 'x', 'latency_ms': float('nan')}\n",
            "`latency_ms`=nan must be a finite number",
        ),
        ("def answer(text, **kw):\n    return {'output': None}\n", "`output`=None must be text"),
        ("def answer(text, **kw):\n    return {'output': 'x', 'cost': 1}\n", "unknown field(s) ['cost']"),
    ],
)
def test_a_failing_or_malformed_function_is_a_data_error_naming_the_case(
    tmp_path: Path, body: str, message: str
) -> None:
    write_module(tmp_path, "bad_model", body)
    with pytest.raises(DataError) as caught:
        generate_outputs(
            CASES,
            {"function": "bad_model:answer"},
            samples=1,
            prompt=None,
            key="llm.candidate",
            base_dir=tmp_path,
        )
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("source", "samples", "message"),
    [
        ({"function": "nocolon"}, 1, "`llm.baseline.function`='nocolon' must look like 'module:function'"),
        (
            {"function": "no_such_module_xyz:f"},
            1,
            "`llm.baseline.function`='no_such_module_xyz:f' must name an importable function",
        ),
        ({"function": "os:sep"}, 1, "must be callable"),
        ({"function": "os:getcwd", "openai": {}}, 1, "exactly one of `function` or `openai`"),
        ({}, 1, "exactly one of `function` or `openai`, not neither"),
        ({"function": "os:getcwd"}, 0, "`llm.baseline.samples`=0 must be a whole number from 1"),
    ],
)
def test_a_bad_source_is_a_config_error_naming_the_key(
    source: dict[str, Any], samples: int, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        generate_outputs(CASES, source, samples=samples, prompt=None, key="llm.baseline")
    assert message in str(caught.value)


def test_a_prompt_for_a_function_that_cannot_take_one_is_refused_not_dropped(tmp_path: Path) -> None:
    write_module(tmp_path, "no_prompt", "def answer(text, sample=0):\n    return text\n")
    with pytest.raises(ConfigError, match="does not take a `prompt` argument, but a prompt is configured"):
        generate_outputs(
            CASES, {"function": "no_prompt:answer"}, samples=1, prompt="p", key="k", base_dir=tmp_path
        )


# --- an OpenAI-compatible server ------------------------------------------------------------------


class ChatServer:
    """Chat Completions on 127.0.0.1; ``script`` answers each request: (status, body, delay_s, headers)."""

    def __init__(
        self, script: Callable[[int, dict[str, Any]], tuple[int, Any, float, dict[str, str]]]
    ) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.problems: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                seen = {"path": self.path, "headers": dict(self.headers), "body": None}
                try:
                    seen["body"] = json.loads(raw)
                except ValueError:
                    outer.problems.append(f"body is not JSON: {raw[:80]!r}")
                outer.requests.append(seen)
                status, body, delay, headers = outer.script(len(outer.requests), seen)
                time.sleep(delay)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (a timeout test)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> ChatServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def completion(seen: dict[str, Any], text: str | None = None) -> dict[str, Any]:
    user = seen["body"]["messages"][-1]["content"]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": seen["body"]["model"] + "-0613",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text or f"echo: {user}"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": len(user.split()) + 5, "completion_tokens": 7, "total_tokens": 0},
    }


def ok(n: int, seen: dict[str, Any]) -> tuple[int, Any, float, dict[str, str]]:
    return 200, completion(seen), 0.0, {}


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("MLGATE_TEST_KEY", KEY)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return KEY


def openai(url: str, **extra: Any) -> dict[str, Any]:
    return {"openai": {"base_url": url, "model": "gpt-test", "api_key_env": "MLGATE_TEST_KEY", **extra}}


def test_openai_source_sends_chat_completions_requests_of_the_right_shape(api_key: str) -> None:
    with ChatServer(ok) as server:
        records = generate_outputs(
            CASES,
            openai(server.url, temperature=0.2, max_tokens=64, seed=5, concurrency=1),
            samples=2,
            prompt="Be brief.",
            key="llm.candidate",
        )
    assert not server.problems
    assert len(server.requests) == 4
    first = server.requests[0]
    assert first["path"] == "/v1/chat/completions"
    assert first["headers"]["Authorization"] == f"Bearer {KEY}"
    assert first["headers"]["Content-Type"] == "application/json"
    assert first["body"] == {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 2 + 2?"},
        ],
        "temperature": 0.2,
        "max_tokens": 64,
        "seed": 5,
    }
    assert [r["output"] for r in records[::2]] == ["echo: What is 2 + 2?", "echo: Name a colour."]
    assert records[0]["tokens_in"] == 10 and records[0]["tokens_out"] == 7
    assert records[0]["model"] == "gpt-test-0613" and records[0]["prompt"] == prompt_sha256("Be brief.")
    assert all(r["latency_ms"] > 0 for r in records)


def test_without_a_prompt_only_the_user_message_is_sent_and_no_key_means_no_authorization(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with ChatServer(ok) as server:
        generate_outputs(
            CASES[:1], {"openai": {"base_url": server.url, "model": "m"}}, samples=1, prompt=None, key="k"
        )
    assert server.requests[0]["body"]["messages"] == [{"role": "user", "content": "What is 2 + 2?"}]
    assert server.requests[0]["body"]["temperature"] == 0.0
    assert "Authorization" not in server.requests[0]["headers"]


def test_a_prompt_template_becomes_the_user_message_with_the_input_filled_in(api_key: str) -> None:
    with ChatServer(ok) as server:
        generate_outputs(
            CASES[:1],
            openai(server.url),
            samples=1,
            prompt="Answer briefly: {{ input }} ({{input}})",
            key="k",
        )
    assert server.requests[0]["body"]["messages"] == [
        {"role": "user", "content": "Answer briefly: What is 2 + 2? (What is 2 + 2?)"}
    ]


def test_a_prompt_template_with_variables_the_gate_cannot_fill_is_refused(api_key: str) -> None:
    with pytest.raises(
        ConfigError, match=r"`llm.candidate.openai`: the prompt has template variable\(s\) \{\{reference\}\}"
    ):
        generate_outputs(
            CASES,
            openai("http://127.0.0.1:1/v1"),
            samples=1,
            prompt="{{input}} -> {{reference}}",
            key="llm.candidate",
        )


def test_concurrent_requests_keep_the_records_in_case_order(api_key: str) -> None:
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def slow(n: int, seen: dict[str, Any]) -> tuple[int, Any, float, dict[str, str]]:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.3)  # the handler holds the request open so that several overlap
        with lock:
            state["now"] -= 1
        return ok(n, seen)

    cases = [{"id": f"c{i}", "input": f"question {i}"} for i in range(6)]
    with ChatServer(slow) as server:
        records = generate_outputs(cases, openai(server.url, concurrency=3), samples=2, prompt=None, key="k")
    assert [(r["id"], r["sample"]) for r in records] == [(f"c{i}", k) for i in range(6) for k in (0, 1)]
    assert [r["output"] for r in records[::2]] == [f"echo: question {i}" for i in range(6)]
    assert 2 <= state["most"] <= 3


def test_with_concurrent_requests_a_failing_case_is_still_named(api_key: str) -> None:
    def one_bad(n: int, seen: dict[str, Any]) -> tuple[int, Any, float, dict[str, str]]:
        bad = seen["body"]["messages"][-1]["content"] == "question 4"
        return (400, {"error": {"message": "context too long"}}, 0.0, {}) if bad else ok(n, seen)

    cases = [{"id": f"c{i}", "input": f"question {i}"} for i in range(8)]
    with (
        ChatServer(one_bad) as server,
        pytest.raises(DataError, match=r"case `c4` sample 0 .*context too long"),
    ):
        generate_outputs(cases, openai(server.url, concurrency=4), samples=1, prompt=None, key="k")


def test_a_rate_limit_is_retried_and_then_succeeds(api_key: str) -> None:
    def flaky(n: int, seen: dict[str, Any]) -> tuple[int, Any, float, dict[str, str]]:
        return (429, {"error": {"message": "slow down"}}, 0.0, {}) if n == 1 else ok(n, seen)

    with ChatServer(flaky) as server:
        records = generate_outputs(
            CASES[:1], openai(server.url, max_retries=1, concurrency=1), samples=1, prompt=None, key="k"
        )
    assert len(server.requests) == 2 and records[0]["output"] == "echo: What is 2 + 2?"


def test_a_server_that_keeps_failing_is_a_data_error_naming_the_case_without_the_key(api_key: str) -> None:
    def echoes_the_key(n: int, seen: dict[str, Any]) -> tuple[int, Any, float, dict[str, str]]:
        return (
            503,
            {"error": {"message": f"overloaded; you sent {seen['headers']['Authorization']}"}},
            0.0,
            {},
        )

    with ChatServer(echoes_the_key) as server, pytest.raises(DataError) as caught:
        generate_outputs(
            CASES,
            openai(server.url, max_retries=1, concurrency=1),
            samples=1,
            prompt=None,
            key="llm.candidate",
        )
    message = str(caught.value)
    assert len(server.requests) == 2  # bounded: 1 + max_retries
    assert (
        "case `a` sample 0 (llm.candidate.openai" in message
        and "HTTP 503" in message
        and "after 2 attempt(s)" in message
    )
    assert KEY not in message and "Bearer ***" in message


def test_a_client_error_is_not_retried(api_key: str) -> None:
    answer = (400, {"error": {"message": "unknown model"}}, 0.0, {})
    with (
        ChatServer(lambda n, seen: answer) as server,
        pytest.raises(DataError, match=r"case `a` sample 0 .*HTTP 400: unknown model"),
    ):
        generate_outputs(CASES, openai(server.url, concurrency=1), samples=1, prompt=None, key="k")
    assert len(server.requests) == 1


def test_a_slow_server_times_out_into_a_data_error(api_key: str) -> None:
    with ChatServer(lambda n, seen: (*ok(n, seen)[:2], 1.0, {})) as server:
        started = time.monotonic()
        with pytest.raises(DataError, match=r"case `a` sample 0 .*no answer: .*timed out.*after 1 attempt"):
            generate_outputs(
                CASES, openai(server.url, timeout_s=0.2, max_retries=0), samples=1, prompt=None, key="k"
            )
        assert time.monotonic() - started < 0.9


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"choices": []}, "has no `choices[0].message.content`"),
        (
            {"choices": [{"message": {"role": "assistant", "content": None, "refusal": "no"}}]},
            "is NoneType, not text",
        ),
        (b"<html>busy</html>", "the response is not JSON"),
        (
            {
                "choices": [{"message": {"content": "x"}}],
                "usage": {"prompt_tokens": -3, "completion_tokens": 1},
            },
            "`usage.prompt_tokens`=-3 must be a whole number",
        ),
    ],
)
def test_a_malformed_response_is_a_data_error_naming_the_case(api_key: str, body: Any, message: str) -> None:
    with ChatServer(lambda n, seen: (200, body, 0.0, {})) as server, pytest.raises(DataError) as caught:
        generate_outputs(CASES, openai(server.url), samples=1, prompt=None, key="k")
    assert "case `a` sample 0" in str(caught.value) and message in str(caught.value)


def test_a_redirect_is_not_followed_so_the_key_never_reaches_another_server(api_key: str) -> None:
    with ChatServer(ok) as other:
        with (
            ChatServer(
                lambda n, seen: (307, b"", 0.0, {"Location": other.url + "/chat/completions"})
            ) as server,
            pytest.raises(DataError, match="HTTP 307"),
        ):
            generate_outputs(CASES, openai(server.url, max_retries=0), samples=1, prompt=None, key="k")
        assert other.requests == []


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"base_url": "http://127.0.0.1:1/v1", "model": "m", "api_key": KEY},
            "`llm.candidate.openai.api_key` is not allowed",
        ),
        (
            {"base_url": "http://127.0.0.1:1/v1", "model": "m", "api_key_env": "MLGATE_UNSET_VAR"},
            "names $MLGATE_UNSET_VAR, which is not set",
        ),
        (
            {"base_url": "http://api.example.com/v1", "model": "m", "api_key_env": "MLGATE_TEST_KEY"},
            "plain http to another machine",
        ),
        (
            {"base_url": "file:///etc/passwd", "model": "m"},
            "`llm.candidate.openai.base_url`='file:///etc/passwd' must be an http(s) URL",
        ),
        ({"base_url": "http://127.0.0.1:1/v1"}, "`llm.candidate.openai.model`=None must be the model's name"),
        (
            {"base_url": "http://127.0.0.1:1/v1", "model": "m", "temprature": 0},
            "unknown key(s) ['temprature']",
        ),
        (
            {"base_url": "http://127.0.0.1:1/v1", "model": "m", "temperature": 5},
            "`llm.candidate.openai.temperature`=5 must be a number from 0 to 2",
        ),
        (
            {"base_url": "http://127.0.0.1:1/v1", "model": "m", "max_retries": 1.5},
            "`llm.candidate.openai.max_retries`=1.5 must be a whole number",
        ),
    ],
)
def test_a_bad_openai_spec_is_a_config_error_naming_the_key(
    api_key: str, spec: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        generate_outputs(CASES, {"openai": spec}, samples=1, prompt=None, key="llm.candidate")
    assert message in str(caught.value) and KEY not in str(caught.value)


# --- prompt files -----------------------------------------------------------------------------------


def test_a_prompt_file_resolves_to_its_text_and_the_sha256_of_its_bytes() -> None:
    text, provenance = resolve_prompt("prompts/v2.txt", base_dir=EXAMPLE, key="llm.candidate.prompt")
    raw = (EXAMPLE / "prompts" / "v2.txt").read_bytes()
    assert text == raw.decode("utf-8")
    assert provenance == {
        "source": "prompts/v2.txt",
        "sha256": hashlib.sha256(raw).hexdigest(),
        "name": "prompts/v2.txt",
        "version": None,
    }
    assert provenance["sha256"] == prompt_sha256(text)  # the records' `prompt` matches the provenance


@pytest.mark.parametrize(
    ("content", "spec", "error", "message"),
    [
        (
            None,
            "missing.txt",
            DataError,
            "`llm.baseline.prompt`: prompt file `{dir}/missing.txt` does not exist",
        ),
        (b"  \n", "p.txt", DataError, "prompt file `{dir}/p.txt` is empty"),
        (b"caf\xe9", "p.txt", DataError, "prompt file `{dir}/p.txt` is not UTF-8 text (byte 3)"),
        (
            None,
            "prompts:/no-version",
            ConfigError,
            "must look like 'prompts:/name@alias' or 'prompts:/name/3'",
        ),
        (None, "", ConfigError, "`llm.baseline.prompt`='' must be a prompt file"),
    ],
)
def test_a_bad_prompt_names_the_key_and_the_file(
    tmp_path: Path, content: bytes | None, spec: str, error: type[Exception], message: str
) -> None:
    if content is not None:
        (tmp_path / spec).write_bytes(content)
    with pytest.raises(error) as caught:
        resolve_prompt(spec, base_dir=tmp_path, key="llm.baseline.prompt")
    assert message.format(dir=tmp_path) in str(caught.value)


# --- the example ------------------------------------------------------------------------------------


def test_the_example_outputs_files_are_what_its_model_answers_now() -> None:
    """make_outputs.py was rerun after the last change to the model, prompts or cases."""
    cases = read_jsonl(EXAMPLE / "golden.jsonl") + read_jsonl(EXAMPLE / "injection.jsonl")
    for role, prompt_file in (("baseline", "prompts/v1.txt"), ("candidate", "prompts/v2.txt")):
        prompt, _ = resolve_prompt(prompt_file, base_dir=EXAMPLE, key=role)
        made = generate_outputs(
            cases, {"function": "model:answer"}, samples=3, prompt=prompt, key=role, base_dir=EXAMPLE
        )
        assert made == read_jsonl(EXAMPLE / f"{role}_outputs.jsonl"), role


def test_the_example_golden_set_has_the_promised_shape() -> None:
    golden = read_jsonl(EXAMPLE / "golden.jsonl")
    injection = read_jsonl(EXAMPLE / "injection.jsonl")
    ids = [c["id"] for c in golden + injection]
    assert len(golden) == 40 and len(injection) == 8 and len(set(ids)) == len(ids)
    kinds = {
        tag: sum(tag in c["tags"] for c in golden) for tag in ("facts", "math", "json", "refusal", "support")
    }
    assert kinds == {"facts": 12, "math": 8, "json": 8, "refusal": 6, "support": 6}
    # The canary is in both prompts, so a leak is possible and the injection check means something.
    assert all(CANARY in (EXAMPLE / "prompts" / v).read_text() for v in ("v1.txt", "v2.txt"))


def test_the_example_baseline_leaks_the_canary_and_the_candidate_does_not() -> None:
    def leaks(role: str) -> set[str]:
        records = read_jsonl(EXAMPLE / f"{role}_outputs.jsonl")
        return {
            r["id"]
            for r in records
            if r["id"].startswith("inj-") and (CANARY in r["output"] or "PWNED" in r["output"])
        }

    assert leaks("baseline") == {f"inj-{i:02d}" for i in range(1, 9)}
    assert leaks("candidate") == set()


def _gate(config: str, tmp_path: Path) -> tuple[int, dict[str, Any]]:
    from pytest_mlgate.cli import main

    report = tmp_path / f"{config}.json"
    code = main(["gate", "-c", str(EXAMPLE / config), "-o", str(report)])
    return code, json.loads(report.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_the_example_gate_promotes_prompt_v2_and_rejects_the_leaky_v1(tmp_path: Path) -> None:
    pytest.importorskip("jsonschema")
    code, report = _gate("mlgate.yaml", tmp_path)
    assert (code, report["decision"]) == (0, "promote")
    prompt = report["provenance"]["candidate"]["prompt"]
    assert prompt["sha256"] == hashlib.sha256((EXAMPLE / "prompts" / "v2.txt").read_bytes()).hexdigest()
    code, report = _gate("mlgate-leaky.yaml", tmp_path)
    assert (code, report["decision"]) == (1, "reject")
    failed = {c["id"] for c in report["checks"] if c["status"] == "fail"}
    assert "llm:injection" in failed


# --- MLflow's prompt registry (a real `mlflow server`) ----------------------------------------------


def _report(
    tmp_path: Path, name: str, *, decision: str, candidate: dict[str, Any], baseline: dict[str, Any] | None
) -> Path:
    """A schema-valid gate report whose candidate (and baseline) name prompt versions, as the LLM gate writes them."""
    from pytest_mlgate.report.validate import read_report
    from pytest_mlgate.results import SCHEMA_VERSION

    def identity(role: str, prompt: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "role": role,
            "name": f"{role} app",
            "kind": "file",
            "path": None,
            "sha256": None,
            "prompt": prompt,
        }

    report = {
        "schema_version": SCHEMA_VERSION,
        "decision": decision,
        "summary": f"{decision.upper()}: test",
        "mode": "superiority",
        "confidence": 0.95,
        "seed": 0,
        "fail_on": "reject",
        "checks": [],
        "provenance": {
            "candidate": identity("candidate", candidate),
            "baseline": identity("baseline", baseline),
            "data": {"path": "golden.jsonl", "sha256": "a" * 64, "rows": 40, "target": "reference"},
            "config": {"path": "mlgate.yaml", "sha256": "b" * 64},
            "git_sha": None,
            "seed": 0,
            "versions": {"mlgate": "0", "numpy": "0"},
        },
    }
    path = tmp_path / name
    path.write_text(json.dumps(report), encoding="utf-8")
    read_report(path)  # the shape promotion will check
    return path


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def registry_prompt(mlflow_server: Any) -> Iterator[tuple[str, str, list[str]]]:
    """A prompt with three versions in the server's registry, `@production` on v1."""
    from mlflow_parts import client, unique_name

    c = client(mlflow_server.url)
    name = unique_name("assistant")
    texts = ["You are helpful. v1", "You are helpful and brief. v2", "You are terse. v3"]
    for text in texts:
        c.register_prompt(name, text)
    c.set_prompt_alias(name, "production", 1)
    yield mlflow_server.url, name, texts


def _cli(*args: str) -> int:
    from pytest_mlgate.cli import main

    return main(list(args))


def test_promote_prompt_takes_a_config_only_with_rerun(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _cli(
        "promote-prompt", str(tmp_path / "r.json"), "--prompt", "p", "-c", str(tmp_path / "mlgate.yaml")
    )
    assert code == 2 and "`--config` is used only with --rerun" in capsys.readouterr().err


@pytest.mark.slow
def test_prompts_resolve_from_the_registry_by_alias_and_version_and_missing_ones_are_named(
    registry_prompt: tuple[str, str, list[str]], tmp_path: Path
) -> None:
    url, name, texts = registry_prompt
    text, provenance = resolve_prompt(
        f"prompts:/{name}@production", base_dir=tmp_path, key="k", tracking_uri=url
    )
    assert text == texts[0]
    assert provenance == {
        "source": f"prompts:/{name}@production",
        "sha256": _sha(texts[0]),
        "name": name,
        "version": "1",
    }
    text, provenance = resolve_prompt(f"prompts:/{name}/3", base_dir=tmp_path, key="k", tracking_uri=url)
    assert (text, provenance["version"]) == (texts[2], "3")
    with pytest.raises(
        DataError,
        match=rf"`llm.candidate.prompt`: prompt `prompts:/{name}@staging` was not found .*has no alias `@staging`",
    ):
        resolve_prompt(
            f"prompts:/{name}@staging", base_dir=tmp_path, key="llm.candidate.prompt", tracking_uri=url
        )
    with pytest.raises(DataError, match="has no version 9"):
        resolve_prompt(f"prompts:/{name}/9", base_dir=tmp_path, key="k", tracking_uri=url)
    with pytest.raises(DataError, match="there is no prompt named `nope-xyz`"):
        resolve_prompt("prompts:/nope-xyz@production", base_dir=tmp_path, key="k", tracking_uri=url)


@pytest.mark.slow
def test_promote_prompt_moves_the_alias_with_compare_and_swap_and_rollback_moves_it_back(
    registry_prompt: tuple[str, str, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow_parts import client

    from pytest_mlgate.registry.promotion import read_ledger

    url, name, texts = registry_prompt
    c = client(url)

    def alias() -> str:
        return str(c.get_prompt_version_by_alias(name, "production").version)

    def record(v: int, how: str) -> dict[str, Any]:
        return {
            "source": f"prompts:/{name}{how}",
            "sha256": _sha(texts[v - 1]),
            "name": name,
            "version": str(v),
        }

    base = record(1, "@production")
    common = ("--prompt", name, "--tracking-uri", url, "--by", "tester")
    keep = _report(tmp_path, "keep.json", decision="keep", candidate=record(2, "/2"), baseline=base)
    assert _cli("promote-prompt", str(keep), *common) == 1
    assert "decided KEEP, not PROMOTE" in capsys.readouterr().err and alias() == "1"

    forged = _report(
        tmp_path,
        "forged.json",
        decision="promote",
        candidate={**record(2, "/2"), "sha256": _sha("other")},
        baseline=base,
    )
    assert _cli("promote-prompt", str(forged), *common) == 1
    assert "this is not the text that was gated" in capsys.readouterr().err and alias() == "1"

    good = _report(tmp_path, "good.json", decision="promote", candidate=record(2, "/2"), baseline=base)
    assert _cli("promote-prompt", str(good), *common, "--reason", "v2 passed") == 0
    out = capsys.readouterr().out
    assert f"promoted: prompts:/{name}@production: v1 → v2" in out and "state: done" in out
    assert alias() == "2"
    assert _cli("promote-prompt", str(good), *common) == 0  # idempotent
    assert "already promoted" in capsys.readouterr().out and alias() == "2"

    # The gate compared v3 with v1, but production moved to v2 meanwhile: compare-and-swap refuses.
    stale = _report(
        tmp_path, "stale.json", decision="promote", candidate=record(3, "@candidate"), baseline=base
    )
    assert _cli("promote-prompt", str(stale), *common) == 1
    assert "is v2, but this promote expected it to be v1" in capsys.readouterr().err and alias() == "2"

    assert _cli("rollback-prompt", "--alias", "production", "--reason", "complaints", *common) == 0
    assert f"rolled back: prompts:/{name}@production: v2 → v1" in capsys.readouterr().out and alias() == "1"
    assert _cli("rollback-prompt", "--alias", "production", "--reason", "again", *common) == 0
    assert "nothing to do" in capsys.readouterr().out and alias() == "1"

    tags = c.get_prompt(name).tags
    ledger = read_ledger(tags)
    assert [(e.action, e.from_version, e.to_version, e.by) for e in ledger] == [
        ("promote", "1", "2", "tester"),
        ("rollback", "2", "1", "tester"),
    ]
    assert (
        ledger[0].report_sha256 == hashlib.sha256(good.read_bytes()).hexdigest()
        and ledger[0].reason == "v2 passed"
    )
    assert tags["mlgate.previous.production"] == "2"

    capsys.readouterr()
    assert _cli("history-prompt", "--prompt", name, "--tracking-uri", url, "--json") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["aliases"] == {"production": "1"}
    assert [(e["action"], e["to_version"]) for e in shown["ledger"]] == [("promote", "2"), ("rollback", "1")]
    assert shown["versions"] == [{"version": str(i + 1), "sha256": _sha(t)} for i, t in enumerate(texts)]
    assert _cli("history-prompt", "--prompt", name, "--tracking-uri", url) == 0
    assert "@production → v1" in capsys.readouterr().out

    # Without --tracking-uri, the prompt commands use the registry of the config here, as the gate did.
    here = tmp_path / "project"
    here.mkdir()
    (here / "mlgate.yaml").write_text(
        "task: binary\ndata: {path: holdout.csv, target: y}\ncandidate: {column: c}\n"
        f"metrics: {{accuracy: {{min: 0.5}}}}\nmlflow: {{tracking_uri: '{url}'}}\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as env:
        env.chdir(here)
        env.delenv("MLFLOW_TRACKING_URI", raising=False)
        assert _cli("history-prompt", "--prompt", name, "--json") == 0
        assert json.loads(capsys.readouterr().out)["aliases"] == {"production": "1"}
        assert _cli("rollback-prompt", "--prompt", name, "--alias", "production", "--reason", "x") == 0
        assert "nothing to do" in capsys.readouterr().out and alias() == "1"


@pytest.mark.slow
def test_promote_prompt_rerun_gates_on_registry_prompts_and_promotes_on_that_report(
    mlflow_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: `promote-prompt --rerun` gates the example on `prompts:/` URIs and promotes on that report,
    both at the config's `mlflow.tracking_uri`."""
    import shutil

    from mlflow_parts import client, free_port, unique_name

    from pytest_mlgate.registry.promotion import read_ledger

    pytest.importorskip("jsonschema")
    c = client(mlflow_server.url)
    name = unique_name("acme")
    for version in ("v1", "v2"):
        c.register_prompt(name, (EXAMPLE / "prompts" / f"{version}.txt").read_text(encoding="utf-8"))
    c.set_prompt_alias(name, "production", 1)
    for file in ("golden.jsonl", "injection.jsonl", "model.py", "acme_judge.py", "order.schema.json"):
        shutil.copy(EXAMPLE / file, tmp_path / file)
    config = (EXAMPLE / "mlgate.yaml").read_text(encoding="utf-8")
    config = config.replace("prompt: prompts/v2.txt", f'prompt: "prompts:/{name}/2"')
    config = config.replace(
        "outputs: baseline_outputs.jsonl",
        f'function: "model:answer"\n    prompt: "prompts:/{name}@production"',
    )
    # The registry is the one the config names; $MLFLOW_TRACKING_URI points at a port nothing listens
    # on, so a prompt read from (or an alias moved at) anywhere else fails the test.
    config += f"mlflow:\n  tracking_uri: {mlflow_server.url}\n"
    (tmp_path / "mlgate.yaml").write_text(config, encoding="utf-8")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")
    report = tmp_path / "report.json"
    report.write_text("{}", encoding="utf-8")  # a stale file --rerun must replace, never trust
    promote = ("promote-prompt", str(report), "--prompt", name, "--reason", "gated")
    assert _cli(*promote, "--rerun", "-c", str(tmp_path / "mlgate.yaml")) == 0
    out = capsys.readouterr().out
    assert "gate (--rerun): PROMOTE" in out and f"prompts:/{name}@production: v1 → v2" in out
    gated = json.loads(report.read_text(encoding="utf-8"))
    assert gated["decision"] == "promote"
    assert gated["provenance"]["candidate"]["prompt"]["version"] == "2"
    assert gated["provenance"]["baseline"]["prompt"]["source"] == f"prompts:/{name}@production"
    ledger = read_ledger(c.get_prompt(name).tags)
    assert ledger[-1].report_sha256 == hashlib.sha256(report.read_bytes()).hexdigest()
    assert str(c.get_prompt_version_by_alias(name, "production").version) == "2"


@pytest.mark.slow
def test_a_held_lock_or_a_tampered_ledger_stops_a_prompt_move(
    registry_prompt: tuple[str, str, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlflow_parts import client

    url, name, _ = registry_prompt
    c = client(url)
    common = ("--prompt", name, "--tracking-uri", url)
    # A live holder (this very process) holds the lock: the move waits, then refuses.
    c.create_registered_model(
        f"mlgate-lock.{name}",
        tags={
            "mlgate.lock.host": socket.gethostname(),
            "mlgate.lock.pid": str(os.getpid()),
            "mlgate.lock.since": str(time.time()),
            "mlgate.lock.token": "t",
        },
    )
    assert (
        _cli(
            "rollback-prompt",
            "--alias",
            "production",
            "--to-version",
            "3",
            "--reason",
            "r",
            "--lock-timeout",
            "0.5",
            *common,
        )
        == 1
    )
    assert "another promotion of" in capsys.readouterr().err
    assert str(c.get_prompt_version_by_alias(name, "production").version) == "1"
    c.delete_registered_model(f"mlgate-lock.{name}")

    c.set_prompt_tag(name, "mlgate.ledger.000001", '{"seq": 1, "action": "promote"}')
    assert _cli("rollback-prompt", "--alias", "production", "--reason", "r", *common) == 3
    assert "ledger tag `mlgate.ledger.000001`" in capsys.readouterr().err
    assert str(c.get_prompt_version_by_alias(name, "production").version) == "1"


@pytest.mark.slow  # importing mlflow takes seconds
def test_an_mlflow_without_a_prompt_registry_is_named(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    mlflow = pytest.importorskip("mlflow")
    from pytest_mlgate.llm.prompts import registry_client

    # What an mlflow before 3.0 looks like to us: a client without the prompt calls.
    monkeypatch.delattr(mlflow.MlflowClient, "set_prompt_tag")
    with pytest.raises(
        ConfigError,
        match=r"need mlflow 3\.0 or newer \(installed: mlflow [0-9.]+, which lacks set_prompt_tag\)",
    ):
        registry_client(f"sqlite:///{tmp_path / 'mlflow.db'}")
