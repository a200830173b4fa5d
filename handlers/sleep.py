"""`sleep`: a job for tests, benchmarks and smoke checks. `seconds: 0` is the no-op job."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, ConfigDict, Field

from daemon.context import JobContext
from daemon.registry import handler


class SleepParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(default=0.0, ge=0, le=3600, description="How long to sleep.")
    fail: bool = Field(default=False, description="Raise after sleeping (tests retries).")
    steps: int = Field(default=0, ge=0, le=1000, description="Report progress this many times while sleeping.")


@handler("sleep", SleepParams)
async def run(params: SleepParams, ctx: JobContext) -> dict:
    """Sleeps, optionally reporting progress and failing; returns how long it slept."""
    if params.steps:
        for i in range(params.steps):
            await asyncio.sleep(params.seconds / params.steps)
            await ctx.progress(100 * (i + 1) / params.steps, f"step {i + 1} of {params.steps}")
    elif params.seconds:
        await asyncio.sleep(params.seconds)
    if params.fail:
        raise RuntimeError(f"sleep job asked to fail (attempt {ctx.attempt})")
    return {"slept": params.seconds}
