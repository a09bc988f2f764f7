"""Users endpoints: search, count, read, update (swap-all PUT) and delete.

Design decision: `count_users` asks for one record and reads `total_record_count` (one call per
group, as Ex Libris' own Cloud App does), and returns None when Alma says -1, so nobody mistakes
"unknown" for a number. `q` is a word match and brief items carry no `user_group`: an exact
census pages with `expand=full` and filters on the client; `census_page` decodes those pages
into the few fields a census reads (`reconciler.alma.user_pages`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from reconciler.alma.paging import MAX_PAGE_SIZE, iter_records, read_page
from reconciler.alma.payloads import User
from reconciler.alma.requesting import Reply, Requester
from reconciler.alma.user_pages import CensusPage, census_page_of, decode_census_page
from reconciler.errors import AlmaCall, AlmaUnexpectedBodyError

USERS = "/users"
USER = "/users/{user_id}"


@dataclass(frozen=True)
class UserPage:
    """One page of GET /users: its records and the total Alma claimed (None when unknown)."""

    users: tuple[User, ...]
    total: int | None


class UserEndpoints:
    """The Users area of the API; mixed into `AlmaClient`."""

    _requester: Requester

    def search_users(
        self,
        q: str | None = None,
        *,
        limit: int = 10,
        offset: int = 0,
        expand_full: bool = False,
        order_by: str | None = None,
    ) -> UserPage:
        """One page of GET /users (brief records unless `expand_full`)."""
        envelope = self._user_list(
            q, limit=limit, offset=offset, expand_full=expand_full, order_by=order_by
        )
        page = read_page(envelope, "user")
        return UserPage(
            users=tuple(cast(User, record) for record in page.records), total=page.total
        )

    def iter_users(
        self,
        q: str | None = None,
        *,
        expand_full: bool = True,
        max_records: int | None = None,
    ) -> Iterator[User]:
        """Every user matching `q`, 100 per call; full records by default (they carry the group).

        Offset paging over a list that changes underneath (users moved by another process)
        can show a user twice; each primary_id is yielded once so a census never double-counts.
        """

        def fetch(limit: int, offset: int) -> Mapping[str, Any]:
            return self._user_list(q, limit=limit, offset=offset, expand_full=expand_full)

        seen: set[str] = set()
        for record in iter_records(fetch, "user", max_records=max_records):
            primary_id = record.get("primary_id") if isinstance(record, dict) else None
            if isinstance(primary_id, str):
                if primary_id in seen:
                    continue
                seen.add(primary_id)
            yield cast(User, record)

    def census_page(
        self,
        *,
        offset: int,
        q: str | None = None,
        limit: int = MAX_PAGE_SIZE,
        order_by: str | None = None,
    ) -> CensusPage:
        """One page of full records (`expand=full`), decoded into the census fields only."""
        reply = self._user_list_reply(
            q,
            limit=limit,
            offset=offset,
            expand_full=True,
            order_by=order_by,
            typed=decode_census_page,
        )
        page = reply.typed
        if not isinstance(page, CensusPage):  # a shape the typed decoder declined: in general
            try:
                page = census_page_of(reply.json_object())
            except ValueError as error:  # a date or a count that is not one
                raise AlmaUnexpectedBodyError(
                    reply.call,
                    status=reply.status,
                    alma_message="a user's date or count is not one",
                ) from error
        if page is None:
            raise AlmaUnexpectedBodyError(
                reply.call, status=reply.status, alma_message="a user list item is not an object"
            )
        return page

    def count_users(self, q: str) -> int | None:
        """Alma's count of users matching `q` (one call); None when Alma reports -1."""
        envelope = self._user_list(q, limit=1, offset=0, expand_full=False)
        return read_page(envelope, "user").total

    def get_user(self, user_id: str, *, expand: str | Sequence[str] = "") -> User:
        """GET /users/{user_id}; `expand="loans,requests,fees"` adds the in-use counts."""
        expand_value = expand if isinstance(expand, str) else ",".join(expand)
        reply = self._requester.call(
            "GET",
            USER,
            path_values={"user_id": user_id},
            params={"expand": expand_value or None},
        )
        return cast(User, _user_record(reply.json_object(), reply.call))

    def update_user(
        self, user_id: str, record: User, *, override: Sequence[str] = ("user_group",)
    ) -> User:
        """PUT the whole record back (swap-all); `override` makes a new group stick on SIS users."""
        reply = self._requester.call(
            "PUT",
            USER,
            path_values={"user_id": user_id},
            params={"override": ",".join(override) or None},
            json_body=record,
        )
        return cast(User, _user_record(reply.json_object(), reply.call))

    def delete_user(self, user_id: str) -> None:
        """DELETE /users/{user_id}; Alma refuses users with loans, requests or fees (conflict)."""
        self._requester.call("DELETE", USER, path_values={"user_id": user_id})

    def _user_list(
        self,
        q: str | None,
        *,
        limit: int,
        offset: int,
        expand_full: bool,
        order_by: str | None = None,
    ) -> dict[str, Any]:
        return self._user_list_reply(
            q, limit=limit, offset=offset, expand_full=expand_full, order_by=order_by
        ).json_object()

    def _user_list_reply(
        self,
        q: str | None,
        *,
        limit: int,
        offset: int,
        expand_full: bool,
        order_by: str | None = None,
        typed: Callable[[bytes], object | None] | None = None,
    ) -> Reply:
        if not 0 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 0 and {MAX_PAGE_SIZE}")
        return self._requester.call(
            "GET",
            USERS,
            params={
                "q": q or None,
                "limit": limit,
                "offset": offset,
                "expand": "full" if expand_full else None,
                "order_by": order_by,
            },
            typed=typed,
        )


def _user_record(document: dict[str, Any], call: AlmaCall) -> dict[str, Any]:
    # A PUT that "succeeds" with another shape would leave us unsure what Alma stored.
    if "primary_id" not in document:
        raise AlmaUnexpectedBodyError(call, status=200, alma_message="expected a user record")
    return document
