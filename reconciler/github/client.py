"""A small GitHub REST client: issue comments and issues, with the token only in a header.

Design decisions:
- The token comes from `GITHUB_TOKEN` and goes only into the `Authorization` header; it is
  redacted from any text GitHub sends back, and never followed to another host: pagination
  follows `Link: rel="next"` only when it points at the same API root.
- `GITHUB_API_URL` (set by Actions, and by `make rehearse` to the local fake) must be https,
  except on loopback.
- A 403 is almost always a read-only token (pull requests from forks get one): the message
  says so, because "Resource not accessible by integration" does not.
- No retries: a comment is cosmetic next to the plan artifact, and a failed post fails the job
  step visibly instead of hiding behind backoff.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from reconciler.errors import GitHubApiError, UsageError
from reconciler.github.sticky import (
    Comment,
    CommentUpdate,
    plan_comment_updates,
    split_into_comments,
)

DEFAULT_API_URL = "https://api.github.com"
PAGE_SIZE = 100
TIMEOUT_SECONDS = 30.0
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class StickyResult:
    """What posting a sticky comment did, in counts."""

    created: int
    updated: int
    deleted: int
    unchanged: int


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str


class GitHubClient:
    """Issue comments and issues of one repository."""

    def __init__(
        self,
        *,
        token: str,
        repository: str,
        api_url: str = DEFAULT_API_URL,
        session: requests.Session | None = None,
    ) -> None:
        if not token:
            raise UsageError("GITHUB_TOKEN is empty: the job needs a token to post comments")
        if repository.count("/") != 1 or not all(repository.split("/")):
            raise UsageError(f"GITHUB_REPOSITORY must be OWNER/NAME, not {repository!r}")
        parts = urlsplit(api_url)
        if parts.scheme != "https" and not (
            parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        ):
            raise UsageError(f"GITHUB_API_URL must use https (got {parts.scheme}://…)")
        self._token = token
        self._root = api_url.rstrip("/")
        self._repo_path = f"/repos/{repository}"
        self._session = session or requests.Session()
        self._session.trust_env = False  # no proxies or .netrc credentials from the environment

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> GitHubClient:
        """A client from GITHUB_TOKEN, GITHUB_REPOSITORY and (optionally) GITHUB_API_URL."""
        for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY"):
            if not env.get(name):
                raise UsageError(f"{name} is not set (CI sets it; see README, In CI)")
        return cls(
            token=env["GITHUB_TOKEN"],
            repository=env["GITHUB_REPOSITORY"],
            api_url=env.get("GITHUB_API_URL") or DEFAULT_API_URL,
        )

    def __repr__(self) -> str:
        return f"GitHubClient({self._root}{self._repo_path})"

    def close(self) -> None:
        self._session.close()

    # -- comments --------------------------------------------------------------------------

    def list_comments(self, number: int) -> list[Comment]:
        return [
            Comment(
                id=int(item["id"]),
                body=str(item.get("body") or ""),
                author_is_bot=str((item.get("user") or {}).get("type", "")) == "Bot",
            )
            for item in self._pages(f"{self._repo_path}/issues/{number}/comments")
        ]

    def create_comment(self, number: int, body: str) -> int:
        path = f"{self._repo_path}/issues/{number}/comments"
        return int(self._call("POST", path, {"body": body})["id"])

    def update_comment(self, comment_id: int, body: str) -> None:
        self._call("PATCH", f"{self._repo_path}/issues/comments/{comment_id}", {"body": body})

    def delete_comment(self, comment_id: int) -> None:
        self._call("DELETE", f"{self._repo_path}/issues/comments/{comment_id}")

    def post_sticky(self, number: int, markdown: str, kind: str) -> StickyResult:
        """Create or update our comments of `kind` on pull request `number` to hold `markdown`."""
        bodies = split_into_comments(markdown, kind)
        updates = plan_comment_updates(self.list_comments(number), bodies, kind)
        for update in updates:
            self._send(number, update)
        created = sum(1 for u in updates if u.comment_id is None)
        deleted = sum(1 for u in updates if u.body is None)
        updated = len(updates) - created - deleted
        return StickyResult(created, updated, deleted, len(bodies) - created - updated)

    def _send(self, number: int, update: CommentUpdate) -> None:
        if update.comment_id is None:
            self.create_comment(number, update.body or "")
        elif update.body is None:
            self.delete_comment(update.comment_id)
        else:
            self.update_comment(update.comment_id, update.body)

    def pull_request_of_commit(self, commit: str) -> int | None:
        """The merged pull request that `commit` belongs to (apply posts its report there)."""
        path = f"{self._repo_path}/commits/{commit}/pulls"
        for item in self._pages(path):
            if item.get("merged_at") or item.get("state") == "closed":
                return int(item["number"])
        return None

    # -- issues ----------------------------------------------------------------------------

    def find_open_issue(self, label: str) -> Issue | None:
        """The oldest open issue (not pull request) carrying `label`, if any."""
        path = f"{self._repo_path}/issues"
        found = [
            Issue(int(item["number"]), str(item.get("title") or ""), str(item.get("body") or ""))
            for item in self._pages(
                path, {"state": "open", "labels": label, "sort": "created", "direction": "asc"}
            )
            if "pull_request" not in item
        ]
        return found[0] if found else None

    def create_issue(self, title: str, body: str, label: str) -> int:
        document = {"title": title, "body": body, "labels": [label]}
        return int(self._call("POST", f"{self._repo_path}/issues", document)["number"])

    def update_issue(self, number: int, *, body: str | None = None, closed: bool = False) -> None:
        document: dict[str, Any] = {}
        if body is not None:
            document["body"] = body
        if closed:
            document["state"] = "closed"
            document["state_reason"] = "completed"
        self._call("PATCH", f"{self._repo_path}/issues/{number}", document)

    # -- HTTP ------------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[Any]:
        url: str | None = self._root + path
        query: dict[str, str] | None = {"per_page": str(PAGE_SIZE), **(params or {})}
        while url is not None:
            response = self._request("GET", url, path, params=query)
            items = _json(response, "GET", path)
            if not isinstance(items, list):
                raise GitHubApiError("GET", path, response.status_code, "expected a list")
            yield from items
            url = self._next_page(response)
            query = None  # the next link carries its own query string

    def _next_page(self, response: requests.Response) -> str | None:
        link = response.links.get("next", {}).get("url")
        if not link:
            return None
        if not link.startswith(self._root + "/"):
            return None  # never send the token to another host
        return str(link)

    def _call(self, method: str, path: str, document: object | None = None) -> Any:
        response = self._request(method, self._root + path, path, document=document)
        return _json(response, method, path) if response.content else {}

    def _request(
        self,
        method: str,
        url: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        document: object | None = None,
    ) -> requests.Response:
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "alma-groups",
        }
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                data=json.dumps(document).encode() if document is not None else None,
                headers=headers,
                timeout=TIMEOUT_SECONDS,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise GitHubApiError(method, path, None, type(error).__name__) from None
        if response.status_code >= 400:
            raise GitHubApiError(method, path, response.status_code, self._explain(response))
        return response

    def _explain(self, response: requests.Response) -> str:
        try:
            message = str(response.json().get("message", ""))
        except (ValueError, AttributeError):
            message = ""
        message = message.replace(self._token, "[redacted]")[:300] or response.reason or ""
        if response.status_code == 403:
            return (
                f"{message} — the token may not write here; pull requests from forks get a "
                "read-only token, so they get validation only"
            )
        if response.status_code == 422:
            return f"{message} — GitHub refused the content (a comment holds 65,536 characters)"
        return message


def _json(response: requests.Response, method: str, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubApiError(method, path, response.status_code, "answer is not JSON") from None


def pull_request_number(env: Mapping[str, str], explicit: int | None = None) -> int:
    """The pull request to comment on: --pr, else PR_NUMBER, else the Actions event file."""
    if explicit is not None:
        return explicit
    if env.get("PR_NUMBER", "").isdigit():
        return int(env["PR_NUMBER"])
    event_path = env.get("GITHUB_EVENT_PATH")
    if event_path:
        try:
            event = json.loads(Path(event_path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise UsageError(f"{event_path}: cannot read the event ({error})") from None
        for key in ("pull_request", "issue"):
            number = (event.get(key) or {}).get("number")
            if isinstance(number, int):
                return number
    raise UsageError("no pull request number: pass --pr N or set PR_NUMBER")
