"""A local, stateful GitHub REST server that holds every exchange to GitHub's OpenAPI description.

It serves the endpoints in ``github_api/openapi-subset.json`` (cut from
``@octokit/openapi`` by ``github_api/extract_openapi.py``) on 127.0.0.1. Each
request is checked against the operation: the path and query parameters, the
documented media type and API version, the token, and the JSON body against the
request schema. Each response it sends is checked against the response schema
for its status. Anything off is recorded in ``violations`` (the fixture fails the
test on any) and answered as GitHub would: 404, 401, 403 or 422.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SPEC_PATH = Path(__file__).parent / "github_api" / "openapi-subset.json"
API_VERSION = "2022-11-28"
_DROP = {"discriminator", "xml", "externalDocs", "deprecated", "readOnly", "writeOnly", "example", "examples"}


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects to JSON Schema (draft 7): ``nullable`` becomes a null branch."""
    if isinstance(node, list):
        return [_to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k not in _DROP and not k.startswith("x-")}
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


class Spec:
    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.raw = json.loads(path.read_text(encoding="utf-8"))
        self.source = self.raw["x-source"]
        document = {"components": {"schemas": _to_json_schema(self.raw["components"]["schemas"])}}
        self.registry: Registry[Any] = Registry().with_resource(
            "urn:github", Resource.from_contents(document, default_specification=DRAFT7)
        )
        self.routes = []
        for template, operations in self.raw["paths"].items():
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            for method, operation in operations.items():
                self.routes.append((method.upper(), re.compile(f"^{pattern}$"), template, operation))

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            _, _, section, name = node["$ref"].split("/", 3)
            node = self.raw["components"][section][name]
        return node

    def match(self, method: str, path: str) -> tuple[str, dict[str, Any], dict[str, str]] | None:
        for verb, pattern, template, operation in self.routes:
            found = pattern.match(path)
            if verb == method and found:
                return template, operation, found.groupdict()
        return None

    def errors(self, instance: Any, schema: Any) -> list[str]:
        converted = _to_json_schema(schema)
        converted = json.loads(json.dumps(converted).replace('"#/components/', '"urn:github#/components/'))
        validator = jsonschema.Draft7Validator(
            converted, registry=self.registry, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        )
        return [
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}"
            for e in validator.iter_errors(instance)
        ]

    def response_schema(self, operation: dict[str, Any], status: int) -> Any:
        responses = operation["responses"]
        response = self.resolve(responses.get(str(status)) or responses.get("default"))
        if response is None:
            return None
        return ((response.get("content") or {}).get("application/json") or {}).get("schema", {})

    def example(self, schema: Any) -> Any:
        """A small instance that satisfies ``schema``: what the server fills in for fields it does not keep."""
        schema = self.resolve(schema)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                value = self.example(part)
                if isinstance(value, dict):
                    merged |= value
            return merged
        for key in ("anyOf", "oneOf"):
            if key in schema:
                return self.example(schema[key][0])
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type", "object")
        if kind == "object":
            props = schema.get("properties", {})
            return {
                name: self.example(props.get(name, {"type": "string"})) for name in schema.get("required", [])
            }
        if kind == "array":
            return []
        if kind == "integer":
            return max(1, int(schema.get("minimum", 1)))
        if kind == "number":
            return 1.0
        if kind == "boolean":
            return False
        fmt = schema.get("format")
        if fmt == "date-time":
            return "2026-12-02T12:00:00Z"
        if fmt == "uri":
            return "https://github.example/x"
        if fmt == "email":
            return "octocat@github.example"
        return "x"


@dataclass
class Exchange:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int


@dataclass
class FakeGitHub:
    token: str = "ghs_harness"
    read_only_tokens: set[str] = field(default_factory=set)
    spec: Spec = field(default_factory=Spec)
    comments: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    pulls: dict[tuple[str, int], str] = field(default_factory=dict)
    dispatches: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    exchanges: list[Exchange] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1001))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- what tests set up and read -----------------------------------------------------------

    def open_pull(self, repository: str, number: int, head_sha: str) -> None:
        self.pulls[(repository, number)] = head_sha
        self.comments.setdefault((repository, number), [])

    def add_comment(self, repository: str, number: int, body: str, login: str = "someone") -> dict[str, Any]:
        with self._lock:
            return self._new_comment(repository, number, body, login)

    def comments_on(self, repository: str, number: int) -> list[dict[str, Any]]:
        return self.comments.get((repository, number), [])

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeGitHub:
        handler = type("Handler", (_Handler,), {"github": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- the endpoints ------------------------------------------------------------------------

    def _new_comment(self, repository: str, number: int, body: str, login: str) -> dict[str, Any]:
        comment_id = next(self._ids)
        user = self.spec.example({"$ref": "#/components/schemas/simple-user"}) | {
            "login": login,
            "type": "Bot" if login.endswith("[bot]") else "User",
        }
        base = f"https://api.github.example/repos/{repository}"
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{base}/issues/comments/{comment_id}",
            "html_url": f"https://github.example/{repository}/pull/{number}#issuecomment-{comment_id}",
            "issue_url": f"{base}/issues/{number}",
            "body": body,
            "user": user,
            "created_at": "2026-12-02T12:00:00Z",
            "updated_at": "2026-12-02T12:00:00Z",
            "author_association": "NONE",
        }
        self.comments.setdefault((repository, number), []).append(comment)
        return comment

    def handle(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        found = self.spec.match(method, path)
        if found is None:
            self.violations.append(f"{method} {path}: no such operation in GitHub's description")
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}
        template, operation, params = found
        where = f"{method} {template}"
        problems = self._check_request(where, operation, params, query, headers, raw)
        if problems:
            self.violations += problems
            return 422, {"message": "Validation Failed: " + "; ".join(problems)[:400]}, {}
        auth = headers.get("authorization", "")
        token = auth.removeprefix("Bearer ").removeprefix("token ")
        if token not in ({self.token} | self.read_only_tokens):
            return (
                401,
                {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"},
                {},
            )
        body = json.loads(raw) if raw else None
        repository = f"{params['owner']}/{params['repo']}"
        with self._lock:
            status, answer, extra = self._route(template, method, repository, params, query, body, token)
        schema = self.spec.response_schema(operation, status)
        if schema is None and status == 401:
            pass  # GitHub answers 401 on every endpoint; the description lists it on none of these
        elif schema is None:
            self.violations.append(f"{where}: answered {status}, which the description does not list")
        elif answer is not None:
            self.violations += [f"{where} response {status}: {e}" for e in self.spec.errors(answer, schema)]
        return status, answer, extra

    def _check_request(
        self,
        where: str,
        operation: dict[str, Any],
        params: dict[str, str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        raw: bytes,
    ) -> list[str]:
        problems = []
        if "application/vnd.github+json" not in headers.get("accept", ""):
            problems.append(f"{where}: Accept must be application/vnd.github+json")
        if headers.get("x-github-api-version") != API_VERSION:
            problems.append(f"{where}: X-GitHub-Api-Version must be {API_VERSION}")
        declared = [self.spec.resolve(p) for p in operation.get("parameters", [])]
        for param in declared:
            name, place, schema = param["name"], param["in"], param.get("schema", {})
            if place == "path":
                value: Any = params.get(name)
            elif place == "query" and name in query:
                value = query[name][-1]
            else:
                if param.get("required"):
                    problems.append(f"{where}: required {place} parameter `{name}` is missing")
                continue
            if schema.get("type") == "integer":
                if not re.fullmatch(r"-?\d+", str(value)):
                    problems.append(f"{where}: {place} parameter `{name}`={value!r} must be an integer")
                    continue
                value = int(value)
                if name == "per_page" and not 1 <= value <= 100:
                    problems.append(f"{where}: `per_page`={value} must be 1..100")
            problems += [f"{where}: {place} `{name}`: {e}" for e in self.spec.errors(value, schema)]
        unknown = set(query) - {p["name"] for p in declared if p["in"] == "query"}
        if unknown:
            problems.append(f"{where}: undocumented query parameters {sorted(unknown)}")
        body_spec = self.spec.resolve(operation.get("requestBody"))
        if body_spec is None:
            if raw:
                problems.append(f"{where}: sends a body, but the operation takes none")
            return problems
        if not raw:
            if body_spec.get("required"):
                problems.append(f"{where}: the request body is required")
            return problems
        if not headers.get("content-type", "").startswith("application/json"):
            problems.append(f"{where}: Content-Type must be application/json")
        try:
            body = json.loads(raw)
        except ValueError:
            return [*problems, f"{where}: the body is not JSON"]
        schema = body_spec["content"]["application/json"]["schema"]
        problems += [f"{where} request: {e}" for e in self.spec.errors(body, schema)]
        return problems

    def _route(
        self,
        template: str,
        method: str,
        repository: str,
        params: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
        token: str,
    ) -> tuple[int, Any, dict[str, str]]:
        forbidden = (403, {"message": "Resource not accessible by integration", "status": "403"}, {})
        not_found = (404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {})
        if template.endswith("/issues/{issue_number}/comments"):
            number = int(params["issue_number"])
            if (repository, number) not in self.comments:
                return not_found
            if method == "POST":
                if token in self.read_only_tokens:
                    return forbidden
                return 201, self._new_comment(repository, number, body["body"], "github-actions[bot]"), {}
            items = self.comments[(repository, number)]
            per_page = int(query.get("per_page", ["30"])[-1])
            page = int(query.get("page", ["1"])[-1])
            chunk = items[(page - 1) * per_page : page * per_page]
            headers = {}
            if page * per_page < len(items):
                nxt = urllib.parse.urlencode({"per_page": per_page, "page": page + 1})
                headers["Link"] = (
                    f'<{self.url}/repos/{repository}/issues/{number}/comments?{nxt}>; rel="next"'
                )
            return 200, copy.deepcopy(chunk), headers
        if template.endswith("/issues/comments/{comment_id}"):
            if token in self.read_only_tokens:
                return forbidden
            comment_id = int(params["comment_id"])
            for (repo, _), items in self.comments.items():
                for comment in items:
                    if repo == repository and comment["id"] == comment_id:
                        comment["body"] = body["body"]
                        comment["updated_at"] = "2026-12-02T12:30:00Z"
                        return 200, copy.deepcopy(comment), {}
            return not_found
        if template.endswith("/dispatches"):
            if token in self.read_only_tokens:
                return forbidden
            self.dispatches.append((repository, body))
            return 204, None, {}
        if template.endswith("/pulls/{pull_number}"):
            number = int(params["pull_number"])
            if (repository, number) not in self.pulls:
                return not_found
            pull = self.spec.example({"$ref": "#/components/schemas/pull-request"})
            pull |= {"number": number, "state": "open"}
            pull["head"] = pull.get("head", {}) | {"sha": self.pulls[(repository, number)]}
            return 200, pull, {}
        return not_found


class _Handler(BaseHTTPRequestHandler):
    github: FakeGitHub

    def _serve(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        query = urllib.parse.parse_qs(url.query)
        try:
            status, answer, extra = self.github.handle(self.command, url.path, query, headers, raw)
        except Exception as exc:  # the fake itself broke: make the test see it
            self.github.violations.append(
                f"{self.command} {url.path}: server error {type(exc).__name__}: {exc}"
            )
            status, answer, extra = 500, {"message": "fake GitHub broke"}, {}
        try:
            sent = json.loads(raw) if raw else None
        except ValueError:
            sent = raw
        self.github.exchanges.append(Exchange(self.command, url.path, query, sent, status))
        payload = b"" if answer is None else json.dumps(answer).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
