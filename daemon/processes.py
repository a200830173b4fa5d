"""CPU-heavy handler work runs in a child process: the daemon's event loop keeps heartbeating, and cancel
can terminate the child outright instead of waiting for it to notice.

The child leads its own process group, so the processes it starts (the ETL's reader pool) go down with it:
SIGTERM to the child kills the whole group. On Linux the child also asks for SIGTERM when the daemon dies
(PR_SET_PDEATHSIG), so a SIGKILLed daemon leaves no orphan work running while another daemon retries the job."""

from __future__ import annotations

import asyncio
import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from daemon import logs

ProgressCallback = Callable[[float, str], None]

_CONTEXT = multiprocessing.get_context("spawn")


class ChildProcessError_(RuntimeError):
    """The function raised in the child; the message is the child's exception text."""


_PR_SET_PDEATHSIG = 1


def _kill_own_group(signum: int, frame: object) -> None:
    os.killpg(0, signal.SIGKILL)


def _become_group_leader(parent_pid: int) -> None:
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, _kill_own_group)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # the daemon died before the death signal was armed
        _kill_own_group(signal.SIGTERM, None)


def _child_main(conn: Connection, parent_pid: int, log_format: logs.LogFormat, func: Callable[..., Any],
                args: tuple, kwargs: dict) -> None:
    _become_group_leader(parent_pid)
    logs.configure(log_format.level, log_format.json)  # a spawned child starts unconfigured: log as the parent

    def report(fraction: float, step: str) -> None:
        conn.send(("progress", float(fraction), str(step)))

    try:
        value = func(*args, report=report, **kwargs)
        conn.send(("result", value))
    except BaseException as exc:  # report everything, including KeyboardInterrupt, to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}", traceback.format_exc()))
    finally:
        conn.close()


async def run_in_process(
    func: Callable[..., Any], *args: Any, on_progress: ProgressCallback | None = None, **kwargs: Any
) -> Any:
    """Run func(*args, report=..., **kwargs) in a spawned process and return its (picklable) result.

    func must be importable at module level. Progress reports from the child reach on_progress in this loop.
    Cancelling the awaiting task terminates the child (SIGTERM, then SIGKILL after 2 s).
    """
    loop = asyncio.get_running_loop()
    parent, child = _CONTEXT.Pipe(duplex=False)
    # not daemonic: a daemonic process may not start children of its own (the ETL's reader pool)
    process = _CONTEXT.Process(target=_child_main, args=(child, os.getpid(), logs.current(), func, args, kwargs),
                               daemon=False)
    process.start()
    child.close()
    messages: asyncio.Queue[tuple] = asyncio.Queue()

    def readable() -> None:
        try:
            messages.put_nowait(parent.recv())
        except (EOFError, OSError):
            loop.remove_reader(parent.fileno())
            messages.put_nowait(("eof",))

    loop.add_reader(parent.fileno(), readable)
    try:
        while True:
            message = await messages.get()
            kind = message[0]
            if kind == "progress" and on_progress is not None:
                on_progress(message[1], message[2])
            elif kind == "result":
                return message[1]
            elif kind == "error":
                raise ChildProcessError_(message[1])
            elif kind == "eof":
                await loop.run_in_executor(None, process.join, 5)
                raise ChildProcessError_(f"worker process exited with code {process.exitcode} without a result")
    finally:
        try:
            loop.remove_reader(parent.fileno())
        except (ValueError, OSError):
            pass
        if process.is_alive():
            process.terminate()  # the child's handler takes its whole process group down
            await loop.run_in_executor(None, process.join, 2)
            if process.is_alive():
                _kill_group(process.pid)
                await loop.run_in_executor(None, process.join, 2)
        parent.close()


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
