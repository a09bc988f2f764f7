"""A local stand-in for the GitHub REST endpoints `reconciler.github` uses.

For tests and `make rehearse`: issue comments (list with pagination and `Link` headers,
create, update, delete), issues (list by label, create, update, close) and the pull requests of
a commit, kept in memory. It is as strict as GitHub where the tool could go wrong: bodies over
65,536 characters get 422, a read-only token (a fork's) gets 403 on every write, an unknown
token gets 401, and pages hold at most `per_page` (≤ 100) items. Server threads never write to
stderr: tests capture output and a banner from an earlier test would land in a later one.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

BODY_LIMIT = 65_536
MAX_REQUEST_BYTES = 1_000_000


@dataclass
class FakeGitHubState:
    """Everything the fake holds; tests read and seed it directly."""

    repository: str = "flvc/alma-groups"
    url: str = ""  # the server's base URL, for absolute `Link` headers (set on start)
    write_tokens: set[str] = field(default_factory=lambda: {"write-token"})
    read_tokens: set[str] = field(default_factory=lambda: {"fork-token"})
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> comment
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)  # number -> issue
    commit_pulls: dict[str, int] = field(default_factory=dict)  # merge sha -> PR number
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) log
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_comment(self, number: int, body: str, *, bot: bool = True) -> int:
        comment_id = next(self.ids)
        user = {
            "login": "github-actions[bot]" if bot else "librarian",
            "type": "Bot" if bot else "User",
        }
        self.comments[comment_id] = {"id": comment_id, "issue": number, "body": body, "user": user}
        return comment_id

    def comments_on(self, number: int) -> list[dict[str, Any]]:
        return [
            c for c in sorted(self.comments.values(), key=lambda c: c["id"]) if c["issue"] == number
        ]


class _Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    state: FakeGitHubState

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: socketserver's default prints a traceback banner to stderr."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on stderr."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        extra: dict[str, str] = {}
        try:
            raw = self._read_body()
            document = json.loads(raw) if raw else None
            state = self.server.state
            with state.lock:
                state.requests.append((self.command, parts.path))
                self._authorise(state)
                status, answer, extra = _route(state, self.command, parts.path, query, document)
        except _Refusal as refusal:
            status, answer = refusal.status, {"message": refusal.message}
        except (ValueError, KeyError, TypeError):
            status, answer = 400, {"message": "Problems parsing JSON"}
        body = b"" if status == 204 else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BYTES:
            raise _Refusal(413, "Payload too large")
        return self.rfile.read(length) if length else b""

    def _authorise(self, state: FakeGitHubState) -> None:
        header = self.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").removeprefix("token ").strip()
        if token in state.write_tokens:
            return
        if token in state.read_tokens:
            if self.command != "GET":
                raise _Refusal(403, "Resource not accessible by integration")
            return
        raise _Refusal(401, "Bad credentials")


Answer = tuple[int, Any, dict[str, str]]


def _route(
    state: FakeGitHubState, method: str, path: str, query: dict[str, str], document: Any
) -> Answer:
    repo = f"/repos/{state.repository}"
    rest = path[len(repo) :] if path.startswith(repo + "/") else ""
    for pattern, handler in _ROUTES:
        if match := re.fullmatch(pattern, rest):
            answer = handler(state, method, match, query, document)
            if answer is not None:
                return answer
    raise _Refusal(404, "Not Found")


def _comments(
    state: FakeGitHubState, method: str, match: re.Match[str], query: dict[str, str], doc: Any
) -> Answer | None:
    number = int(match[1])
    if method == "GET":
        return _page(state, state.comments_on(number), query, match.string)
    if method == "POST":
        comment_id = state.add_comment(number, _body(doc))
        return 201, _public(state.comments[comment_id]), {}
    return None


def _comment(
    state: FakeGitHubState, method: str, match: re.Match[str], query: dict[str, str], doc: Any
) -> Answer | None:
    comment = state.comments.get(int(match[1]))
    if comment is None:
        raise _Refusal(404, "Not Found")
    if method == "PATCH":
        comment["body"] = _body(doc)
        return 200, _public(comment), {}
    if method == "DELETE":
        del state.comments[comment["id"]]
        return 204, None, {}
    return None


def _issues(
    state: FakeGitHubState, method: str, match: re.Match[str], query: dict[str, str], doc: Any
) -> Answer | None:
    if method == "GET":
        wanted = set(filter(None, query.get("labels", "").split(",")))
        status = query.get("state", "open")
        issues = [
            _issue(i)
            for i in sorted(state.issues.values(), key=lambda i: i["number"])
            if (status == "all" or i["state"] == status) and wanted <= set(i["labels"])
        ]
        return _page(state, issues, query, match.string)
    if method == "POST":
        number = next(state.numbers)
        state.issues[number] = {
            "number": number,
            "title": str(doc["title"]),
            "body": _body(doc),
            "labels": [str(x) for x in doc.get("labels", [])],
            "state": "open",
        }
        return 201, _issue(state.issues[number]), {}
    return None


def _issue_patch(
    state: FakeGitHubState, method: str, match: re.Match[str], query: dict[str, str], doc: Any
) -> Answer | None:
    issue = state.issues.get(int(match[1]))
    if issue is None:
        raise _Refusal(404, "Not Found")
    if method != "PATCH":
        return None
    if "body" in doc:
        issue["body"] = _body(doc)
    if doc.get("state") in ("open", "closed"):
        issue["state"] = doc["state"]
    return 200, _issue(issue), {}


def _commit_pulls(
    state: FakeGitHubState, method: str, match: re.Match[str], query: dict[str, str], doc: Any
) -> Answer | None:
    number = state.commit_pulls.get(match[1])
    pulls = [] if number is None else [{"number": number, "state": "closed", "merged_at": "x"}]
    return _page(state, pulls, query, match.string) if method == "GET" else None


_ROUTES = (
    (r"/issues/(\d+)/comments", _comments),
    (r"/issues/comments/(\d+)", _comment),
    (r"/issues", _issues),
    (r"/issues/(\d+)", _issue_patch),
    (r"/commits/([0-9a-f]{7,40})/pulls", _commit_pulls),
)


def _body(document: Any) -> str:
    body = str(document["body"])
    if len(body) > BODY_LIMIT:
        raise _Refusal(422, "Validation Failed: body is too long (maximum is 65536 characters)")
    return body


def _public(comment: dict[str, Any]) -> dict[str, Any]:
    return {"id": comment["id"], "body": comment["body"], "user": comment["user"]}


def _issue(issue: dict[str, Any]) -> dict[str, Any]:
    return {k: issue[k] for k in ("number", "title", "body", "state", "labels")}


def _page(
    state: FakeGitHubState, items: list[dict[str, Any]], query: dict[str, str], path: str
) -> tuple[int, Any, dict[str, str]]:
    per_page = max(1, min(100, int(query.get("per_page", "30"))))
    page = max(1, int(query.get("page", "1")))
    chunk = [
        _public(i) if "issue" in i else i for i in items[(page - 1) * per_page : page * per_page]
    ]
    headers: dict[str, str] = {}
    if page * per_page < len(items):
        rest = {k: v for k, v in query.items() if k != "page"}
        rest_query = "&".join(f"{k}={v}" for k, v in sorted(rest.items()))
        headers["Link"] = (
            f'<{state.url}/repos/{state.repository}{path}?{rest_query}&page={page + 1}>; rel="next"'
        )
    return 200, chunk, headers


class FakeGitHub:
    """The fake over HTTP on 127.0.0.1; a context manager that stops its server on exit."""

    def __init__(self, state: FakeGitHubState | None = None) -> None:
        self.state = state or FakeGitHubState()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.state.url = self.url
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
