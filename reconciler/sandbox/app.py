"""The sandbox application: authentication, thresholds, faults, routing, the request log.

A request is answered in two steps. `admit` is what Alma's gateway decides as the request
arrives: the key decides the institution (bad key: XML error, whatever was asked), the
per-second threshold counts the arrival, and the fault and the time the answer takes are
drawn. `complete` answers: the daily threshold, then the endpoint, then the request log. The
wait between the two is the caller's: `handle` sleeps in the caller's thread (the client's own
thread in-process, `inprocess.py`), the HTTP listener (`listener.py`) awaits it on its event
loop, so that concurrent requests are never serialised by the knobs.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from reconciler.sandbox import analytics, codetables, jobs, sets, users
from reconciler.sandbox.context import Ctx
from reconciler.sandbox.faults import (
    DailyQuota,
    Fault,
    FaultConfig,
    FaultInjector,
    LoggedRequest,
    PerSecondLimiter,
    RequestLog,
    utc_day,
)
from reconciler.sandbox.http import AlmaError, Request, Response, Route, Router, error_response
from reconciler.sandbox.jobbodies import sis_synchronize, update_users
from reconciler.sandbox.jobs import JobRunner, JobTiming
from reconciler.sandbox.store import Store

DEFAULT_DAILY_LIMIT = 250_000
UNAUTHORIZED = "API-key not defined or not configured to allow this API."
PER_SECOND_MESSAGE = "HTTP requests are more than allowed per second"


@dataclass(frozen=True)
class SandboxConfig:
    """Every knob of a running sandbox; `api_keys` maps slug → key (None: `sandbox-<slug>`)."""

    latency_ms: int = 0
    faults: FaultConfig = field(default_factory=FaultConfig)
    per_second_limit: int = 25
    daily_limit: int = DEFAULT_DAILY_LIMIT
    job_timing: JobTiming = field(default_factory=JobTiming)
    api_keys: Mapping[str, str] | None = None
    read_only: frozenset[str] = frozenset()  # slugs whose key may only GET
    ip_blocked: frozenset[str] = frozenset()  # slugs "calling from outside the key's IP range"
    # Alma's JSON sometimes gives a one-member list as a bare object; True mimics it everywhere.
    single_item_lists_as_objects: bool = False
    # Every user PUT must send back the record served, changing only user_group (and leaving
    # user_role out): a client that would wipe or alter anything else fails loudly with a 400.
    # Tests of Alma's raw swap-all semantics turn it off.
    strict_user_put: bool = True
    # The bulk job fails every Nth member of its set (0: none), as Alma's job does for a record
    # it cannot update: the residue the client's census and per-user mop-up must find.
    job_fails_every: int = 0


def build_router() -> Router:
    router = Router()
    for module in (codetables, users, sets, jobs, analytics):
        module.register(router)
    return router


@dataclass(frozen=True)
class _Institution:
    slug: str
    alma_code: str
    name: str


@dataclass(frozen=True)
class Admission:
    """What `SandboxApp.admit` decided about a request before its answer is made."""

    found: tuple[Route, dict[str, str]] | None
    institution: _Institution | None  # None when the key was refused
    fault: Fault
    wait: float  # seconds before the answer: the latency, plus an injected slow answer's delay
    refusal: AlmaError | None = None  # key, path or threshold refused it; complete() answers

    @property
    def template(self) -> str:
        """The route's template, the request log's key ("<unknown>": no route)."""
        return self.found[0].template if self.found else "<unknown>"


class SandboxApp:
    """Answers parsed requests; returns None for a request whose connection must be dropped."""

    def __init__(self, store: Store, config: SandboxConfig, base_url: str) -> None:
        self.store = store
        self.config = config
        self.base_url = base_url
        self.router = build_router()
        self.log = RequestLog()
        self.faults = FaultInjector(config.faults)
        self.limiter = PerSecondLimiter(config.per_second_limit)
        today = utc_day()
        used = {
            str(i): int(u)
            for i, u in store.all("SELECT inst, used FROM quota WHERE day = ?", (today,))
        }
        self.quota = DailyQuota(config.daily_limit, today, used)
        self.jobs = JobRunner(
            store,
            config.job_timing,
            {jobs.UPDATE_USERS_JOB: partial(update_users, fails_every=config.job_fails_every)},
            sis_synchronize,
        )
        self.keys: dict[str, _Institution] = {}
        for slug, alma_code, name, key in store.all(
            "SELECT slug, alma_code, name, api_key FROM institutions ORDER BY slug"
        ):
            chosen = (config.api_keys or {}).get(str(slug), str(key))
            self.keys[chosen] = _Institution(str(slug), str(alma_code), str(name))

    def api_keys(self) -> dict[str, str]:
        return {inst.slug: key for key, inst in self.keys.items()}

    def close(self) -> None:
        """Stop the job threads, keep today's quota and close the database; the log stays."""
        self.jobs.stop()
        self.save_quota()
        self.store.close()

    def save_quota(self) -> None:
        day, used = self.quota.used()
        with self.store.tx() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO quota VALUES (?, ?, ?)",
                [(i, day, u) for i, u in used.items()],
            )

    def _authenticate(self, request: Request) -> _Institution:
        """The institution of the API key (header `Authorization: apikey …` or `?apikey=`)."""
        header = request.headers.get("authorization", "")
        key = header[7:].strip() if header.lower().startswith("apikey ") else ""
        inst = self.keys.get(key or request.query.get("apikey", ""))
        if inst is None or (request.method != "GET" and inst.slug in self.config.read_only):
            raise AlmaError(400, "UNAUTHORIZED", UNAUTHORIZED, xml_only=True)
        if inst.slug in self.config.ip_blocked:
            raise AlmaError(
                403, "FORBIDDEN", "Request is not allowed from this IP address.", xml_only=True
            )
        return inst

    def handle(self, request: Request) -> Response | None:
        """The answer to one request, waiting in this thread as Alma would take its time."""
        admission = self.admit(request)
        if admission.wait:
            time.sleep(admission.wait)
        return self.complete(request, admission)

    def admit(self, request: Request) -> Admission:
        """What Alma's gateway decides as a request arrives: route, key, the per-second
        threshold, and the fault drawn for it with the time its answer takes.

        The threshold counts arrivals, as Alma's gateway does, before the answer's latency:
        counted after it, answers that a busy server let out together looked like a burst
        the client never sent.
        """
        found = None
        latency = self.config.latency_ms / 1000
        try:
            found = self.router.match(request.method, request.path)
            inst = self._authenticate(request)
        except AlmaError as error:
            return Admission(found, None, Fault.NONE, latency, error)
        fault, delay = self.faults.draw(inst.slug)
        refusal = None
        if not self.limiter.allow(inst.slug):
            refusal = AlmaError(429, "PER_SECOND_THRESHOLD", PER_SECOND_MESSAGE)
        return Admission(found, inst, fault, latency + delay, refusal)

    def complete(self, request: Request, admission: Admission) -> Response | None:
        """The answer to an admitted request; None when its connection must be dropped."""
        slug = admission.institution.slug if admission.institution else ""
        try:
            if admission.refusal is not None:
                raise admission.refusal
            inst = admission.institution
            assert inst is not None  # noqa: S101 - admit refuses every request without one
            fault, found = admission.fault, admission.found
            if fault is Fault.LOST_ANSWER:
                with contextlib.suppress(AlmaError):  # whatever the answer, it never arrives
                    self._answer(request, inst, Fault.NONE, found)
            if fault in (Fault.DROP, Fault.LOST_ANSWER):
                self.log.add(LoggedRequest(slug, request.method, admission.template, 0))
                return None
            response = self._answer(request, inst, fault, found)
        except AlmaError as error:
            response = error_response(error, request)
        self.log.add(LoggedRequest(slug, request.method, admission.template, response.status))
        return response

    def _answer(
        self,
        request: Request,
        inst: _Institution,
        fault: Fault,
        found: tuple[Route, dict[str, str]] | None,
    ) -> Response:
        if fault is Fault.ERROR_5XX:
            raise AlmaError(500, "INTERNAL_SERVER_ERROR", "Internal server error (injected).")
        if fault is Fault.THROTTLED:
            raise AlmaError(429, "PER_SECOND_THRESHOLD", PER_SECOND_MESSAGE)
        remaining = self.quota.take(inst.slug)
        if remaining is None:
            raise AlmaError(429, "DAILY_THRESHOLD", "Daily API Request Threshold has been reached")
        if found is None:
            raise AlmaError(404, "404", f"No API matches {request.method} {request.path}")
        route, params = found
        ctx = Ctx(
            self.store,
            inst.slug,
            inst.alma_code,
            inst.name,
            self.base_url,
            self.jobs,
            self.faults,
            strict_user_put=self.config.strict_user_put,
        )
        try:
            response: Response = route.handler(ctx, request, **params)
        except AlmaError:
            raise
        except Exception as exc:  # a sandbox bug must look like an Alma 500, not a dropped socket
            raise AlmaError(500, "INTERNAL_SERVER_ERROR", f"Sandbox error: {exc!r}") from exc
        if 200 <= response.status < 300:
            response.headers["X-Exl-Api-Remaining"] = str(remaining)
        if self.config.single_item_lists_as_objects and request.wants_json:
            if response.raw is not None and "json" in response.content_type:
                response.payload, response.raw = json.loads(response.raw), None
            response.payload = collapse_single_lists(response.payload)
        return response


class RunningSandbox:
    """What both ways of running the sandbox (HTTP, in-process) give once started: the app,
    its request log and its keys. Subclasses set `_app` when they start."""

    _app: SandboxApp | None = None

    @property
    def app(self) -> SandboxApp:
        if self._app is None:
            raise RuntimeError("the sandbox is not running")
        return self._app

    @property
    def request_log(self) -> RequestLog:
        return self.app.log

    def api_keys(self) -> dict[str, str]:
        """slug → the API key the sandbox accepts for it."""
        return self.app.api_keys()


def collapse_single_lists(value: Any) -> Any:
    """[{…}] → {…} at every depth: the JSON quirk clients must normalise."""
    if isinstance(value, dict):
        return {k: collapse_single_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [collapse_single_lists(v) for v in value]
        return items[0] if len(items) == 1 and isinstance(items[0], dict) else items
    return value
