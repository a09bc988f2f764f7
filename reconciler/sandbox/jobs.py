"""Jobs: the catalogue, submission with Alma's thresholds, instances, events, and the runner.

`POST /conf/jobs/M148?op=run` ("Update/Notify Users") returns at once; a background thread
then moves every member of the set to the target group in batches, updating the instance's
status, progress and counters as Alma's Monitor Jobs would. At most 3 API-started jobs run at
once (402222) and a job runs at most 5 times an hour (402223). A run of M148 must carry every
parameter the Run-a-Job wizard shows (402228 names the first one missing; see wizard.py).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from reconciler.sandbox.context import Ctx, code, datestamp, loads, now, timestamp
from reconciler.sandbox.http import AlmaError, Request, Response, Router
from reconciler.sandbox.store import Store, dumps
from reconciler.sandbox.wizard import check_wizard_parameters

UPDATE_USERS_JOB = "M148"
MAX_RUNNING_API_JOBS = 3
MAX_RUNS_PER_HOUR = 5
UNFINISHED = ("QUEUED", "RUNNING")
STATUS_DESC = {
    "QUEUED": "Queued",
    "RUNNING": "Running",
    "COMPLETED_SUCCESS": "Completed Successfully",
    "COMPLETED_WARNING": "Completed with warnings",
    "COMPLETED_FAILED": "Completed with errors",
}
API_USER = code("exl_api", "API, Ex Libris")


@dataclass(frozen=True)
class JobTiming:
    """How fast simulated jobs run: queued for `start_delay_s`, then batches with a pause."""

    start_delay_s: float = 0.3
    batch_size: int = 250
    batch_delay_s: float = 0.02


def register(router: Router) -> None:
    router.add("GET", "/conf/jobs", list_jobs)
    router.add("GET", "/conf/jobs/{job_id}", get_job)
    router.add("POST", "/conf/jobs/{job_id}", run_job)
    router.add("GET", "/conf/jobs/{job_id}/instances", list_instances)
    router.add("GET", "/conf/jobs/{job_id}/instances/{instance_id}", get_instance)
    router.add("GET", "/conf/jobs/{job_id}/instances/{instance_id}/events", list_events)


def _job(ctx: Ctx, job_id: str) -> dict[str, Any]:
    if not re.fullmatch(r"[A-Z]?\d+", job_id):
        raise AlmaError(400, "402215", f"Invalid job id format: {job_id}")
    row = ctx.store.one("SELECT record FROM jobs WHERE inst = ? AND id = ?", (ctx.inst, job_id))
    if row is None:
        raise AlmaError(400, "402216", f"Invalid job id: {job_id}")
    record: dict[str, Any] = loads(row[0])
    record["link"] = ctx.link(f"/conf/jobs/{job_id}")
    return record


def list_jobs(ctx: Ctx, req: Request) -> Response:
    limit = req.int_param("limit", 10, low=0, high=100)
    offset = req.int_param("offset", 0, low=0, high=10**9)
    wanted = {k: req.query.get(k, "") for k in ("type", "category", "profile_id")}
    jobs = []
    for (text,) in ctx.store.all(
        "SELECT record FROM jobs WHERE inst = ? ORDER BY position", (ctx.inst,)
    ):
        job = loads(text)
        profile = (job.get("related_profile") or {}).get("value", "")
        if (
            (wanted["type"] and job["type"]["value"] != wanted["type"])
            or (wanted["category"] and job["category"]["value"] != wanted["category"])
            or (wanted["profile_id"] and profile != wanted["profile_id"])
        ):
            continue
        job["link"] = ctx.link(f"/conf/jobs/{job['id']}")
        jobs.append(job)
    return Response(
        payload={"job": jobs[offset : offset + limit], "total_record_count": len(jobs)}, root="jobs"
    )


def get_job(ctx: Ctx, req: Request, job_id: str) -> Response:
    return Response(payload=_job(ctx, job_id), root="job")


def job_parameters(body: Any) -> dict[str, str]:
    """`parameter[]` of {name: {value}, value} (or name as a plain string) as a dict."""
    raw = body.get("parameter") if isinstance(body, dict) else None
    if isinstance(raw, dict) and "parameter" in raw:
        raw = raw["parameter"]
    items = raw if isinstance(raw, list) else [raw] if raw else []
    params: dict[str, str] = {}
    for item in items:
        name = item.get("name") if isinstance(item, dict) else None
        name = name.get("value") if isinstance(name, dict) else name
        if name:
            params[str(name)] = str(item.get("value") or "")
    return params


def _check_thresholds(ctx: Ctx, job_id: str) -> None:
    running = ctx.store.one(
        "SELECT COUNT(*) FROM job_instances WHERE inst = ? AND api_started = 1"
        " AND status IN ('QUEUED', 'RUNNING')",
        (ctx.inst,),
    )
    if running and running[0] >= MAX_RUNNING_API_JOBS:
        raise AlmaError(400, "402222", "Execution threshold reached: 3 API jobs are running.")
    since = timestamp(now() - timedelta(hours=1))
    recent = ctx.store.one(
        "SELECT COUNT(*) FROM job_instances WHERE inst = ? AND job_id = ? AND api_started = 1"
        " AND submit_time > ?",
        (ctx.inst, job_id, since),
    )
    if recent and recent[0] >= MAX_RUNS_PER_HOUR:
        raise AlmaError(400, "402223", "Execution threshold reached: 5 runs in the past hour.")


def _validate_update_users(ctx: Ctx, params: dict[str, str]) -> None:
    check_wizard_parameters(params)  # 402228 / 402229, as Alma checks the wizard's whole list
    if not ctx.store.one(
        "SELECT 1 FROM sets WHERE inst = ? AND id = ?", (ctx.inst, params["set_id"])
    ):
        raise AlmaError(400, "60107", f"Invalid set ID: {params['set_id']}")


def run_job(ctx: Ctx, req: Request, job_id: str) -> Response:
    op = req.query.get("op")
    if op is None:
        raise AlmaError(400, "402220", "Operation was not provided.")
    if op != "run":
        raise AlmaError(400, "402221", f"Operation is not supported: {op}")
    job = _job(ctx, job_id)
    params = job_parameters(req.json_body() if req.body.strip() else {})
    if job_id == UPDATE_USERS_JOB:
        _validate_update_users(ctx, params)
    elif job["category"]["value"] != "SIS":
        raise AlmaError(400, "402248", "Cannot submit scheduled job.")
    submitted = now()
    instance_id = str(ctx.store.next_id("job_instance", 9563643080000561))
    name = params.get("job_name") or f"{job['name']} - via API - {submitted:%m/%d/%Y %H:%M}"
    record = {
        "id": instance_id,
        "external_id": instance_id,
        "name": name,
        "submitted_by": API_USER,
        "submit_time": timestamp(submitted),
        "progress": 0,
        "status": code("QUEUED", STATUS_DESC["QUEUED"]),
        "status_date": datestamp(submitted),
        "alert": [],
        "counter": [],
        "job_info": {k: job[k] for k in ("id", "name", "description", "type", "category")},
    }
    with ctx.store.tx() as conn:
        _check_thresholds(ctx, job_id)  # inside the transaction: two racing runs cannot both pass
        conn.execute(
            "INSERT INTO job_instances VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
            (
                ctx.inst,
                instance_id,
                job_id,
                record["submit_time"],
                "QUEUED",
                dumps({**params, "job_id": job_id}),
                dumps(record),
            ),
        )
    ctx.jobs.start(ctx.inst, instance_id)
    job["additional_info"] = {
        "value": f"Job no. {instance_id} triggered on {record['submit_time']}",
        "link": ctx.link(f"/conf/jobs/{job_id}/instances/{instance_id}"),
    }
    job["parameter"] = [{"name": code(k, ""), "value": v} for k, v in params.items()]
    return Response(payload=job, root="job")


def _instance(ctx: Ctx, job_id: str, instance_id: str) -> tuple[str, dict[str, Any]]:
    sql = "SELECT job_id, record FROM job_instances WHERE inst = ? AND id = ?"
    args: tuple[str, ...] = (ctx.inst, instance_id)
    if job_id != "ALL":
        _job(ctx, job_id)
        sql += " AND job_id = ?"
        args = (*args, job_id)
    row = ctx.store.one(sql, args)
    if row is None:
        raise AlmaError(400, "402218", f"Invalid job instance id: {instance_id}")
    record: dict[str, Any] = loads(row[1])
    record["link"] = ctx.link(f"/conf/jobs/{row[0]}/instances/{instance_id}")
    return str(row[0]), record


def get_instance(ctx: Ctx, req: Request, job_id: str, instance_id: str) -> Response:
    return Response(payload=_instance(ctx, job_id, instance_id)[1], root="job_instance")


def _date_param(req: Request, name: str) -> str:
    value = req.query.get(name, "")
    if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise AlmaError(400, "402217", f"Invalid date format: {name}={value}")
    return value


def list_instances(ctx: Ctx, req: Request, job_id: str) -> Response:
    _job(ctx, job_id)
    limit = req.int_param("limit", 10, low=0, high=100)
    offset = req.int_param("offset", 0, low=0, high=10**9)
    sql = "SELECT record FROM job_instances WHERE inst = ? AND job_id = ?"
    args: list[Any] = [ctx.inst, job_id]
    if date_from := _date_param(req, "submit_date_from"):
        sql, args = sql + " AND substr(submit_time, 1, 10) >= ?", [*args, date_from]
    if date_to := _date_param(req, "submit_date_to"):
        sql, args = sql + " AND substr(submit_time, 1, 10) <= ?", [*args, date_to]
    if status := req.query.get("status", ""):
        sql, args = sql + " AND status = ?", [*args, status]
    rows = ctx.store.all(sql + " ORDER BY submit_time DESC, id DESC", tuple(args))
    items = []
    for (text,) in rows[offset : offset + limit]:
        record = loads(text)
        record["link"] = ctx.link(f"/conf/jobs/{job_id}/instances/{record['id']}")
        items.append(record)
    return Response(
        payload={"job_instance": items, "total_record_count": len(rows)}, root="job_instances"
    )


def list_events(ctx: Ctx, req: Request, job_id: str, instance_id: str) -> Response:
    real_job, _ = _instance(ctx, job_id, instance_id)
    if _job(ctx, real_job)["category"]["value"] != "SIS":
        raise AlmaError(
            400, "60332", "This service will only work for the job category and type of USERS/SIS."
        )
    limit = req.int_param("limit", 10, low=0, high=100)
    offset = req.int_param("offset", 0, low=0, high=10**9)
    rows = ctx.store.all(
        "SELECT record FROM job_events WHERE inst = ? AND instance_id = ? ORDER BY seq",
        (ctx.inst, instance_id),
    )
    items = [loads(r[0]) for r in rows[offset : offset + limit]]
    return Response(payload={"event": items, "total_record_count": len(rows)}, root="events")


# A job body: (store, inst, params, progress callback, batch size) → (counters, alert code).
# The callback takes a percentage and returns False when the server is stopping.
Progress = Callable[[int], bool]
JobBody = Callable[[Store, str, dict[str, str], Progress, int], tuple[list[Any], str]]


class JobRunner:
    """Runs submitted job instances on background threads; resumes unfinished ones on start."""

    def __init__(
        self, store: Store, timing: JobTiming, bodies: dict[str, JobBody], sis_body: JobBody
    ) -> None:
        self.store = store
        self.timing = timing
        self._bodies = bodies
        self._sis_body = sis_body
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, inst: str, instance_id: str) -> None:
        thread = threading.Thread(
            target=self._run,
            args=(inst, instance_id),
            name=f"sandbox-job-{instance_id}",
            daemon=True,
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def resume_unfinished(self) -> None:
        for inst, instance_id in self.store.all(
            "SELECT inst, id FROM job_instances WHERE status IN ('QUEUED', 'RUNNING')"
        ):
            self.start(str(inst), str(instance_id))

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)

    def _update(self, inst: str, instance_id: str, **changes: Any) -> None:
        with self.store.tx() as conn:
            row = conn.execute(
                "SELECT record FROM job_instances WHERE inst = ? AND id = ?", (inst, instance_id)
            ).fetchone()
            record = loads(row[0])
            record.update(changes)
            conn.execute(
                "UPDATE job_instances SET status = ?, record = ? WHERE inst = ? AND id = ?",
                (record["status"]["value"], dumps(record), inst, instance_id),
            )

    def _run(self, inst: str, instance_id: str) -> None:
        row = self.store.one(
            "SELECT job_id, params FROM job_instances WHERE inst = ? AND id = ?",
            (inst, instance_id),
        )
        if row is None or self._stop.wait(self.timing.start_delay_s):
            return
        job_id, params = str(row[0]), loads(row[1])
        self._update(
            inst,
            instance_id,
            status=code("RUNNING", STATUS_DESC["RUNNING"]),
            start_time=timestamp(),
        )

        def progress(percent: int) -> bool:
            self._update(inst, instance_id, progress=percent)
            return not self._stop.wait(self.timing.batch_delay_s)

        body = self._bodies.get(job_id, self._sis_body)
        try:
            counters, alert = body(self.store, inst, params, progress, self.timing.batch_size)
        except Exception:  # a sandbox bug must not leave a job RUNNING (it counts against 3)
            counters, alert = [], "alert_general_error"
        if self._stop.is_set():
            return  # the server is stopping: leave it RUNNING, the next start resumes it
        status = {
            "alert_general_success": "COMPLETED_SUCCESS",
            "alert_general_warning": "COMPLETED_WARNING",
        }.get(alert, "COMPLETED_FAILED")
        self._update(
            inst,
            instance_id,
            status=code(status, STATUS_DESC[status]),
            progress=100,
            end_time=timestamp(),
            status_date=datestamp(),
            alert=[code(alert, STATUS_DESC[status])],
            counter=counters,
        )
