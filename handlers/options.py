"""The `options` object of the etl and upload params (the old BenchSight API's free-form dict): the keys a
handler knows act; any other key is kept in the job's params, so nothing a client sent is lost, and reported
once as ignored in the job's history (job_events), instead of refusing the request."""

from __future__ import annotations

from pydantic import BaseModel

from daemon.context import JobContext


async def report_ignored(ctx: JobContext, options: BaseModel, why: dict[str, str] | None = None) -> list[str]:
    """Write one warning event listing the options that do nothing (unknown keys, plus the known ones that
    `why` says are ignored in this run); returns their names."""
    ignored = {key: "not an option of this job kind" for key in sorted(options.model_extra or {})}
    ignored.update(why or {})
    if ignored:
        text = "; ".join(f"{key}: {reason}" for key, reason in ignored.items())
        await ctx.pool.execute(
            "insert into public.job_events (job_id, status, level, message, worker, data) "
            "values ($1, $2, 'warning', $3, $4, $5)",
            ctx.job_id, ctx.status, f"ignored options: {text}", ctx.worker, {"ignored_options": ignored})
        ctx.log.warning("job.options_ignored", options=sorted(ignored))
    return sorted(ignored)
