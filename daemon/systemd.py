"""systemd integration for `Type=notify` units: READY=1 once the database is reachable, migrations are current
and the dispatcher runs; WATCHDOG=1 only while the claim loop keeps passing and job outcomes are being written
(Dispatcher.problem); STOPPING=1 on shutdown.

The sd_notify protocol is one datagram per message to the unix socket named by $NOTIFY_SOCKET (a path, or an
abstract name written with a leading '@'), so it is hand-written here rather than pulled in as a dependency.
Without $NOTIFY_SOCKET (not under systemd) every call is a no-op.
"""

from __future__ import annotations

import asyncio
import os
import socket

import structlog

from daemon.config import Settings
from daemon.dispatcher import Dispatcher

log = structlog.get_logger()


class Notifier:
    """Sends sd_notify messages; never raises, because a lost notification must not stop the daemon."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self._socket: socket.socket | None = None
        self._warned = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Notifier:
        return cls(settings.notify_socket)

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, *fields: str) -> bool:
        """Send fields ("READY=1", "STATUS=...") as one message; returns whether it was sent."""
        if not self.address:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                # never block the event loop: a receiver whose queue is full loses this message instead
                self._socket.setblocking(False)
            self._socket.sendto("\n".join(fields).encode(), target)
            return True
        except OSError as exc:
            if not self._warned:  # once: a vanished socket would otherwise log every watchdog interval
                log.warning("systemd.notify_failed", socket=self.address, error=str(exc))
                self._warned = True
            return False

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def watchdog_interval(settings: Settings) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec=, as sd_watchdog_enabled advises), or None when
    systemd asked for no watchdog or asked another process (WATCHDOG_PID) for it."""
    if not settings.watchdog_usec or settings.watchdog_usec <= 0:
        return None
    if settings.watchdog_pid is not None and settings.watchdog_pid != os.getpid():
        return None
    return settings.watchdog_usec / 2 / 1_000_000


async def supervise(notifier: Notifier, dispatcher: Dispatcher, stop: asyncio.Event, *,
                    interval: float | None) -> None:
    """READY=1 when the dispatcher is up, watchdog pings while its loop is alive, STOPPING=1 when stop is set
    (or this task is cancelled)."""
    try:
        await _first(dispatcher.ready, stop)
        if stop.is_set():
            return
        notifier.notify("READY=1", f"STATUS=running as worker {dispatcher.worker}")
        log.info("systemd.ready", notify=notifier.enabled, watchdog_seconds=interval)
        if interval is None:
            await stop.wait()
        else:
            await _watchdog_loop(notifier, dispatcher, stop, interval)
    finally:
        notifier.notify("STOPPING=1", "STATUS=stopping: finishing or releasing running jobs")
        notifier.close()


async def _watchdog_loop(notifier: Notifier, dispatcher: Dispatcher, stop: asyncio.Event, interval: float) -> None:
    """Each interval: ping only if the claim loop passed since the last check and the dispatcher reports no
    problem (no outcome waiting unwritten longer than a lease, no dead background duty), then wake it as a
    probe.

    An idle healthy loop answers the probe within milliseconds (and the sweep feed wakes it anyway), so the
    tick count always moves; a loop stuck in a claim, an event loop blocked by synchronous work, or an outcome
    flush that keeps failing does not pass, the pings stop, and systemd restarts the service after
    WatchdogSec=.
    """
    last = dispatcher.loop_ticks
    reported: str | None = None
    while not stop.is_set():
        dispatcher.wake()
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
            return
        except TimeoutError:
            pass
        ticks = dispatcher.loop_ticks
        if ticks == last:
            log.warning("systemd.watchdog_withheld", loop_ticks=ticks,
                        hint="the claim loop has not passed since the last check; systemd restarts us if it stays stuck")
            continue
        last = ticks
        problem = dispatcher.problem()
        if problem is not None:
            log.warning("systemd.watchdog_withheld", problem=problem,
                        hint="systemd restarts us if this lasts WatchdogSec=")
            if problem != reported:
                notifier.notify(f"STATUS=unhealthy: {problem}")
                reported = problem
            continue
        reported = None
        notifier.notify("WATCHDOG=1", f"STATUS={_status(dispatcher)}")


def _status(dispatcher: Dispatcher) -> str:
    stats = dispatcher.stats
    return (f"worker {dispatcher.worker}: {len(dispatcher.running)} running, {stats['completed']} completed, "
            f"{stats['failed']} failed since start")


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
