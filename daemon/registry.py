"""Job kinds the daemon can run: kind -> handler with typed params and optional concurrency limit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from daemon.context import JobContext

HandlerFunc = Callable[[Any, "JobContext"], Awaitable[Any]]


class PermanentJobError(Exception):
    """A failure that another attempt cannot fix (bad input file, unknown table): fail without retry."""


@dataclass(frozen=True)
class HandlerSpec:
    kind: str
    params: type[BaseModel]
    run: HandlerFunc
    concurrency: int | None = None  # per-daemon limit; None means only the daemon's overall limit
    description: str = ""


REGISTRY: dict[str, HandlerSpec] = {}


def handler(kind: str, params: type[BaseModel], *, concurrency: int | None = None) -> Callable[[HandlerFunc], HandlerFunc]:
    """Register an async function `run(params, ctx) -> result` as the handler of `kind`."""

    def register(run: HandlerFunc) -> HandlerFunc:
        if kind in REGISTRY:
            raise ValueError(f"job kind {kind!r} is registered twice")
        REGISTRY[kind] = HandlerSpec(kind, params, run, concurrency, (run.__doc__ or "").strip())
        return run

    return register


def load_handlers() -> dict[str, HandlerSpec]:
    """Import the handlers package, whose modules register themselves, and return the registry."""
    import handlers  # noqa: F401  (import for its registrations)

    return REGISTRY
