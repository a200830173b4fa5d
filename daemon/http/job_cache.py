"""Recently read jobs, kept only while the API's LISTEN job_changes connection is up: a change notification
drops the job, a reconnect drops everything. `GET /api/jobs/{id}` is what dashboards poll; this turns most of
those reads into a dictionary lookup instead of a database round trip.

A read that was in flight while any change arrived is not stored (the generation check), so a stale row
never outlives the notification of the change that made it stale. Staleness is bounded by NOTIFY delivery
(milliseconds after commit)."""

from __future__ import annotations

from collections import OrderedDict


class JobCache:
    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self.enabled = False  # true only while the change listener is connected
        self._entries: OrderedDict[str, dict] = OrderedDict()
        self._generation = 0

    def get(self, job_id: str) -> dict | None:
        if not self.enabled:
            return None
        job = self._entries.get(job_id)
        if job is not None:
            self._entries.move_to_end(job_id)
        return job

    def token(self) -> int:
        """Take before reading the database; pass to put()."""
        return self._generation

    def put(self, job_id: str, job: dict, token: int) -> None:
        if not self.enabled or token != self._generation:
            return  # a change arrived while we were reading: the row may already be stale
        self._entries[job_id] = job
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, job_id: str | None) -> None:
        self._generation += 1
        if job_id is not None:
            self._entries.pop(job_id, None)

    def reset(self, enabled: bool) -> None:
        """The listener (re)connected or dropped: forget everything."""
        self._generation += 1
        self._entries.clear()
        self.enabled = enabled
