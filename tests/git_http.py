"""A git remote over smart HTTP on 127.0.0.1 that, like GitHub, answers only to a token.

``git http-backend`` (git's own CGI program) serves a bare repository; this server adds what
GitHub does in front of it: every request must carry ``Authorization: basic`` for
``x-access-token:<token>``, else 401. It records each request's service and whether it was
authorised, so a test can tell a tag push that carried the token from one that had none.
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    authorised: bool


class GitHttpRemote:
    def __init__(self, bare: Path, token: str) -> None:
        self.bare = bare.resolve()
        self.expected = "basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def server_url(self) -> str:
        """What GITHUB_SERVER_URL would be for this host."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.server_url}/{self.bare.name}"

    def __enter__(self) -> GitHttpRemote:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        remote = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # no access log in the test output
                pass

            def do_GET(self) -> None:
                self._serve()

            def do_POST(self) -> None:
                self._serve()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            self.rfile.readline()
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _serve(self) -> None:
                body = self._body() if self.command == "POST" else b""
                given = self.headers.get("Authorization", "")
                authorised = given.lower() == remote.expected.lower()
                parts = urlsplit(self.path)
                remote.requests.append(Request(self.command, self.path, authorised))
                if not authorised:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "GIT_PROJECT_ROOT": str(remote.bare.parent),
                    "GIT_HTTP_EXPORT_ALL": "1",
                    "PATH_INFO": parts.path,
                    "QUERY_STRING": parts.query,
                    "REQUEST_METHOD": self.command,
                    "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                    "CONTENT_LENGTH": str(len(body)),
                    "HTTP_CONTENT_ENCODING": self.headers.get("Content-Encoding", ""),
                    "GIT_PROTOCOL": self.headers.get("Git-Protocol", ""),
                    "REMOTE_USER": "x-access-token",  # http-backend allows receive-pack only to a user
                    "REMOTE_ADDR": "127.0.0.1",
                }
                done = subprocess.run(
                    ["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60, check=False
                )
                # CGI headers end at the first blank line, written with or without CR.
                ends = [(i, len(s)) for s in (b"\r\n\r\n", b"\n\n") if (i := done.stdout.find(s)) != -1]
                end, gap = min(ends, default=(len(done.stdout), 0))
                head, payload = done.stdout[:end], done.stdout[end + gap :]
                status, headers = 200, []
                for line in head.decode("latin-1").splitlines():
                    name, _, value = line.partition(":")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    else:
                        headers.append((name, value.strip()))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
