"""Producing the outputs an LLM gate grades: from a local function or an OpenAI-compatible server.

Two sources, named under ``llm.candidate`` / ``llm.baseline``:

- ``{function: "module:function"}``: called once per case and sample as
  ``fn(input, prompt=prompt, sample=k)``. It returns the output text, or a mapping with ``output``
  and optionally ``tokens_in``, ``tokens_out``, ``latency_ms`` and ``model``. ``prompt`` and
  ``sample`` are passed only to a function that accepts them (or ``**kwargs``); a prompt given to a
  function that cannot take one is refused rather than silently dropped.
- ``{openai: {base_url, model, api_key_env, temperature, timeout_s, max_tokens, max_retries,
  seed, concurrency}}``: one Chat Completions request per case and sample (the prompt as the system message, the input as
  the user message; a prompt holding ``{{input}}`` is instead the user message with the input filled
  in), ``concurrency`` of them at a time (default 4), with the standard library's HTTP client, so no
  extra is needed.

Every record is ``{id, output, sample, tokens_in, tokens_out, latency_ms, model, prompt}`` where
``prompt`` is the sha256 of the prompt text (None without a prompt): what the gate compares is the
prompt's identity, not its name.

The API key is read from the environment variable the config names, never from the config, and is
scrubbed from every message: a server that echoes the Authorization header back must not put it in
a CI log.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import ipaddress
import json
import math
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ConfigError, DataError

_OPENAI_KEYS = {
    "base_url",
    "model",
    "api_key_env",
    "temperature",
    "timeout_s",
    "max_tokens",
    "max_retries",
    "seed",
    "concurrency",
}
_MAX_CONCURRENCY = 32
_VARIABLE_ANY = re.compile(r"\{\{\s*(\w+)\s*\}\}")
_VARIABLE = re.compile(r"\{\{\s*input\s*\}\}")
_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
_MAX_BACKOFF_S = 8.0
_MAX_RESPONSE_BYTES = 8 * 1024 * 1024
_MAX_SAMPLES = 100


def prompt_sha256(prompt: str | None) -> str | None:
    """The identity of a prompt: the sha256 of its UTF-8 text."""
    return None if prompt is None else hashlib.sha256(prompt.encode("utf-8")).hexdigest()


def generate_outputs(
    cases: Sequence[Mapping[str, Any]],
    source: Mapping[str, Any],
    *,
    samples: int,
    prompt: str | None,
    key: str,
    base_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """One output record per case and sample, in case order, from ``source`` (see the module doc).

    ``key`` names the source in messages (``llm.candidate``). ``base_dir`` is the config's folder:
    a function's module is looked up there first (default: the working directory), then on sys.path.
    """
    if type(samples) is not int or not 1 <= samples <= _MAX_SAMPLES:
        raise ConfigError(f"`{key}.samples`={samples!r} must be a whole number from 1 to {_MAX_SAMPLES}")
    if prompt is not None and not isinstance(prompt, str):
        raise ConfigError(f"`{key}.prompt` must be text, not {type(prompt).__name__}")
    if not isinstance(source, Mapping):
        raise ConfigError(f"`{key}` must be a mapping with `function` or `openai`")
    kinds = [k for k in ("function", "openai") if k in source]
    if len(kinds) != 1:
        raise ConfigError(
            f"`{key}` must have exactly one of `function` or `openai`, not {kinds or 'neither'}"
        )
    identity = prompt_sha256(prompt)
    call: Callable[[str, int, str], dict[str, Any]]
    workers = 1  # a local function runs in this process: one call at a time, in case order
    if kinds[0] == "function":
        fn = _function_caller(source["function"], f"{key}.function", prompt, base_dir)
        default_model = str(source.get("model") or source["function"])

        def call(text: str, sample: int, case_id: str) -> dict[str, Any]:
            return _checked(fn, text, sample, case_id, key)

    else:
        client = _OpenAIClient(source["openai"], f"{key}.openai", prompt)
        call = client.request
        default_model = client.model
        workers = client.concurrency
    jobs: list[tuple[str, str, int]] = []
    for case in cases:
        case_id = str(case.get("id"))
        text = case.get("input")
        if not isinstance(text, str):
            raise DataError(f"case `{case_id}`: `input` must be text to generate an output for ({key})")
        jobs.extend((case_id, text, sample) for sample in range(samples))
    answers = _run_all(call, jobs, workers)
    records: list[dict[str, Any]] = []
    for (case_id, _, sample), got in zip(jobs, answers, strict=True):
        records.append(
            {
                "id": case_id,
                "output": got["output"],
                "sample": sample,
                "tokens_in": got.get("tokens_in"),
                "tokens_out": got.get("tokens_out"),
                "latency_ms": got["latency_ms"],
                "model": got.get("model") or default_model,
                "prompt": identity,
            }
        )
    return records


def _run_all(
    call: Callable[[str, int, str], dict[str, Any]], jobs: Sequence[tuple[str, str, int]], workers: int
) -> list[dict[str, Any]]:
    """Every job's answer, in job order; the first failure stops the rest (requests not yet sent)."""
    if workers <= 1:
        return [call(text, sample, case_id) for case_id, text, sample in jobs]
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mlgate-llm")
    try:
        futures = [pool.submit(call, text, sample, case_id) for case_id, text, sample in jobs]
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --- a local function -----------------------------------------------------------------------


def _load(spec: Any, key: str, base_dir: Path | None) -> Callable[..., Any]:
    """Import ``module:function``; a module file in the config's folder wins over an installed one.

    Loaded from its file under a private name, so an example's `model.py` cannot collide with some
    other `model` module already imported in the same process (pytest imports many).
    """
    if not isinstance(spec, str) or spec.count(":") != 1 or not all(spec.split(":")):
        raise ConfigError(f"`{key}`={spec!r} must look like 'module:function'")
    module_name, attr = spec.split(":")
    try:
        local = ((base_dir or Path.cwd()) / Path(*module_name.split("."))).with_suffix(".py")
        if local.is_file():
            private = "_mlgate_llm_source_" + hashlib.sha256(str(local.resolve()).encode()).hexdigest()[:16]
            module = sys.modules.get(private)
            if module is None:
                found = importlib.util.spec_from_file_location(private, local)
                assert found is not None and found.loader is not None
                module = importlib.util.module_from_spec(found)
                sys.modules[private] = module
                try:
                    found.loader.exec_module(module)
                except BaseException:
                    sys.modules.pop(private, None)
                    raise
        else:
            module = importlib.import_module(module_name)
        fn = getattr(module, attr)
    except Exception as exc:  # a user's module can fail to import in any way it likes
        raise ConfigError(
            f"`{key}`={spec!r} must name an importable function: {type(exc).__name__}: {exc}"
        ) from None
    if not callable(fn):
        raise ConfigError(f"`{key}`={spec!r} must be callable, not {type(fn).__name__}")
    return fn  # type: ignore[no-any-return]


def _function_caller(
    spec: Any, key: str, prompt: str | None, base_dir: Path | None
) -> Callable[[str, int], dict[str, Any]]:
    fn = _load(spec, key, base_dir)
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature: the plain call only
        params = {}  # type: ignore[assignment]
    open_kwargs = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    takes = {name: open_kwargs or name in params for name in ("prompt", "sample")}
    if prompt is not None and not takes["prompt"]:
        raise ConfigError(
            f"`{key}`={spec!r} does not take a `prompt` argument, but a prompt is configured: it would be "
            "ignored. Add `prompt=None` to the function, or remove the prompt"
        )

    def call(text: str, sample: int) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if takes["prompt"]:
            kwargs["prompt"] = prompt
        if takes["sample"]:
            kwargs["sample"] = sample
        started = time.perf_counter()
        value = fn(text, **kwargs)
        elapsed = (time.perf_counter() - started) * 1000.0
        if isinstance(value, str):
            return {"output": value, "latency_ms": elapsed}
        if isinstance(value, Mapping):
            got = dict(value)
            got.setdefault("latency_ms", elapsed)
            return got
        raise TypeError(f"it returned {type(value).__name__}, not text or a mapping with `output`")

    return call


_FIELDS = {"output", "tokens_in", "tokens_out", "latency_ms", "model"}


def _checked(
    call: Callable[[str, int], dict[str, Any]], text: str, sample: int, case_id: str, key: str
) -> dict[str, Any]:
    """The function's answer for one case, or a DataError naming the case: a crash is never a pass."""
    where = f"case `{case_id}` sample {sample} ({key})"
    try:
        got = call(text, sample)
    except Exception as exc:
        raise DataError(f"{where}: the function failed: {type(exc).__name__}: {str(exc)[:300]}") from None
    unknown = sorted(set(got) - _FIELDS)
    if unknown:
        raise DataError(
            f"{where}: the function returned unknown field(s) {unknown}; allowed: {sorted(_FIELDS)}"
        )
    if not isinstance(got.get("output"), str):
        raise DataError(f"{where}: `output`={got.get('output')!r:.80} must be text")
    for name in ("tokens_in", "tokens_out"):
        value = got.get(name)
        if value is not None and (type(value) is not int or value < 0):
            raise DataError(f"{where}: `{name}`={value!r:.80} must be a whole number >= 0")
    latency = got.get("latency_ms")
    if (
        isinstance(latency, bool)
        or not isinstance(latency, (int, float))
        or not math.isfinite(latency)
        or latency < 0
    ):
        raise DataError(f"{where}: `latency_ms`={latency!r:.80} must be a finite number >= 0")
    model = got.get("model")
    if model is not None and not isinstance(model, str):
        raise DataError(f"{where}: `model`={model!r:.80} must be text")
    got["latency_ms"] = float(latency)
    return got


# --- an OpenAI-compatible server ------------------------------------------------------------


class _OpenAIClient:
    """Chat Completions over HTTP: bounded retries on 429/5xx/timeouts, everything else fails at once."""

    def __init__(self, spec: Any, key: str, prompt: str | None) -> None:
        if not isinstance(spec, Mapping):
            raise ConfigError(f"`{key}` must be a mapping with `base_url` and `model`")
        if "api_key" in spec:
            raise ConfigError(
                f"`{key}.api_key` is not allowed: a secret does not belong in a config file. Put it in an "
                "environment variable and name that variable in `api_key_env`"
            )
        unknown = sorted(set(spec) - _OPENAI_KEYS)
        if unknown:
            raise ConfigError(f"`{key}` has unknown key(s) {unknown}; allowed: {sorted(_OPENAI_KEYS)}")
        self.key = key
        self.prompt = prompt
        # A prompt with MLflow-style {{ variables }} is a template for the user message, not a system
        # message; the gate can fill only the case's input (never its reference, which would leak).
        variables = sorted({m[1] for m in _VARIABLE_ANY.finditer(prompt or "")})
        if set(variables) - {"input"}:
            raise ConfigError(
                f"`{key}`: the prompt has template variable(s) "
                + ", ".join("{{" + v + "}}" for v in variables if v != "input")
                + " that the gate cannot fill: only {{input}} (the case's input) is filled in"
            )
        self.template = bool(variables)
        base_url = spec.get("base_url")
        parts = urlsplit(base_url) if isinstance(base_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"`{key}.base_url`={base_url!r} must be an http(s) URL, like http://127.0.0.1:8000/v1"
            )
        if parts.username or parts.password:
            raise ConfigError(f"`{key}.base_url` must not hold credentials; use `api_key_env`")
        self.url = str(base_url).rstrip("/") + "/chat/completions"
        model = spec.get("model")
        if not isinstance(model, str) or not model:
            raise ConfigError(f"`{key}.model`={model!r} must be the model's name")
        self.model = model
        env = spec.get("api_key_env")
        if env is not None and (not isinstance(env, str) or not env):
            raise ConfigError(f"`{key}.api_key_env`={env!r} must name an environment variable")
        self.api_key = os.environ.get(env or "OPENAI_API_KEY") or None
        if env is not None and self.api_key is None:
            raise ConfigError(f"`{key}.api_key_env` names ${env}, which is not set (or empty)")
        if self.api_key is not None and parts.scheme == "http" and not _loopback(parts.hostname):
            raise ConfigError(
                f"`{key}.base_url`={base_url!r} is plain http to another machine: the API key would cross "
                "the network unencrypted. Use https"
            )
        self.temperature = _number(spec, "temperature", key, 0.0, 0.0, 2.0)
        self.timeout_s = _number(spec, "timeout_s", key, 30.0, 0.001, 600.0)
        self.max_retries = int(_number(spec, "max_retries", key, 2, 0, 10, whole=True))
        self.concurrency = int(_number(spec, "concurrency", key, 4, 1, _MAX_CONCURRENCY, whole=True))
        self.max_tokens = spec.get("max_tokens")
        if self.max_tokens is not None and (type(self.max_tokens) is not int or self.max_tokens < 1):
            raise ConfigError(f"`{key}.max_tokens`={self.max_tokens!r} must be a whole number >= 1")
        self.seed = spec.get("seed")
        if self.seed is not None and type(self.seed) is not int:
            raise ConfigError(f"`{key}.seed`={self.seed!r} must be a whole number")

    def _scrub(self, text: str) -> str:
        return text.replace(self.api_key, "***") if self.api_key else text

    def request(self, text: str, sample: int, case_id: str) -> dict[str, Any]:
        if self.template:
            assert self.prompt is not None
            messages = [{"role": "user", "content": _VARIABLE.sub(lambda _: text, self.prompt)}]
        else:
            messages = [{"role": "system", "content": self.prompt}] if self.prompt is not None else []
            messages.append({"role": "user", "content": text})
        body: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        if self.seed is not None:
            body["seed"] = self.seed
        data = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        where = f"case `{case_id}` sample {sample} ({self.key}, {self.url})"
        problem = ""
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(_MAX_BACKOFF_S, 0.25 * 2**attempt))
            started = time.perf_counter()
            try:
                req = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
                with _OPENER.open(req, timeout=self.timeout_s) as response:
                    raw = response.read(_MAX_RESPONSE_BYTES + 1)
            except urllib.error.HTTPError as exc:
                detail = self._scrub(_error_text(exc))
                problem = f"the server answered HTTP {exc.code}{detail}"
                if exc.code in _RETRY_STATUS:
                    continue
                raise DataError(f"{where}: {problem}") from None
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                problem = f"no answer: {self._scrub(str(reason))[:200]}"
                continue
            latency = (time.perf_counter() - started) * 1000.0
            return self._parse(raw, where, latency)
        raise DataError(f"{where}: {problem} (after {self.max_retries + 1} attempt(s))")

    def _parse(self, raw: bytes, where: str, latency: float) -> dict[str, Any]:
        if len(raw) > _MAX_RESPONSE_BYTES:
            raise DataError(f"{where}: the response is larger than {_MAX_RESPONSE_BYTES} bytes")
        try:
            answer = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise DataError(
                f"{where}: the response is not JSON: {self._scrub(raw[:120].decode('utf-8', 'replace'))!r}"
            ) from None
        try:
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise DataError(f"{where}: the response has no `choices[0].message.content`") from None
        if not isinstance(content, str):
            # A refusal or a tool call leaves content null: there is no text to grade, which is not a pass.
            raise DataError(f"{where}: `choices[0].message.content` is {type(content).__name__}, not text")
        usage = answer.get("usage") if isinstance(answer, dict) else None
        tokens: dict[str, int | None] = {"tokens_in": None, "tokens_out": None}
        if isinstance(usage, dict):
            for ours, theirs in (("tokens_in", "prompt_tokens"), ("tokens_out", "completion_tokens")):
                value = usage.get(theirs)
                if value is not None and (type(value) is not int or value < 0):
                    raise DataError(f"{where}: `usage.{theirs}`={value!r:.40} must be a whole number >= 0")
                tokens[ours] = value
        model = answer.get("model")
        return {
            "output": content,
            **tokens,
            "latency_ms": latency,
            "model": model if isinstance(model, str) and model else self.model,
        }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an error: following it would carry the Authorization header to another host."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        body = exc.read(2000).decode("utf-8", "replace")
    except Exception:
        return ""
    try:
        parsed = json.loads(body)
        message = parsed.get("error", {}).get("message") if isinstance(parsed, dict) else None
    except (json.JSONDecodeError, AttributeError):
        message = None
    text = message if isinstance(message, str) else body
    text = " ".join(text.split())[:200]
    return f": {text}" if text else ""


def _number(
    spec: Mapping[str, Any],
    name: str,
    key: str,
    default: float,
    low: float,
    high: float,
    *,
    whole: bool = False,
) -> float:
    value = spec.get(name, default)
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if whole:
        ok = ok and type(value) is int
    if not ok or not low <= value <= high:
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"`{key}.{name}`={value!r} must be {kind} from {low:g} to {high:g}")
    return float(value)
