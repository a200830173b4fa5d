"""Reading an untrusted file in a child process with memory, CPU and wall-clock limits.

A reader that meets a hostile file can abort the process it runs in (python-calamine aborts on a failed
allocation), eat all memory, or run for minutes. Each file is therefore read in its own child process: the
child lowers its own limits first (RLIMIT_AS: the address space it was forked with plus ``memory_bytes``;
RLIMIT_CPU; no core file; it dies with its parent) and the parent kills it past ``wall_seconds``. A child
that dies, runs out of time or memory, or raises InputError is a rejection of that one file, reported as an
InputError naming it; nothing else is affected, so the next file (and the next ETL run) is read as usual.

Children are forked when the calling process runs a single thread (the ETL's process); from a process with
threads (the daemon: asyncio's thread pool, watchdog) they come from a fork server, as forking a process
with threads is unsafe. Sync and free of asyncio: the daemon calls it through asyncio.to_thread, where the
waiting thread holds no lock the event loop needs.
"""

from __future__ import annotations

import ctypes
import faulthandler
import multiprocessing as mp
import os
import pickle
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from etl.readers.errors import InputError
from etl.readers.limits import LIMITS, Limits

_PRELOAD = ["etl.readers.guard", "etl.readers.tracker_file", "etl.readers.league_workbook", "etl.pipeline"]
_PR_SET_PDEATHSIG = 1
_REJECTING = (MemoryError, RecursionError, UnicodeError)  # what a file (not a bug) can make a reader raise


class ReaderFailed(RuntimeError):
    """The reader raised something a file should not cause (a reader bug); the message names the file."""


@dataclass
class Task:
    """One file to read: func(*args) in a child. ``name`` is how errors name the file ('tracking file x.json')."""

    key: Any
    name: str
    func: Callable[..., Any]
    args: tuple = ()


@dataclass
class _Running:
    task: Task
    process: Any
    conn: Connection
    deadline: float
    started: bool = False  # the child reached the reader (before that, a death is ours, not the file's)
    reply: tuple | None = field(default=None)


def run_guarded(func: Callable[..., Any], *args: Any, name: str, limits: Limits = LIMITS) -> Any:
    """func(*args) in a limited child; its result, InputError when the file is rejected, ReaderFailed else."""
    [(_, value, error, rejected)] = list(_run([Task(None, name, func, args)], limits, 1))
    if error is None:
        return value
    raise InputError(error) if rejected else ReaderFailed(error)


def run_each(tasks: Iterable[Task], *, limits: Limits = LIMITS, workers: int = 1) -> Iterator[tuple[Task, Any, str | None]]:
    """(task, value, None) or (task, None, error) per task as each child ends, up to `workers` at a time.

    Closing the iterator early kills the children still running."""
    for task, value, error, _ in _run(list(tasks), limits, max(1, workers)):
        yield task, value, error


def _run(tasks: list[Task], limits: Limits, workers: int) -> Iterator[tuple[Task, Any, str | None, bool]]:
    context = _context()
    queue = list(reversed(tasks))
    running: dict[Connection, _Running] = {}
    try:
        while queue or running:
            while queue and len(running) < workers:
                child = _start(context, queue.pop(), limits)
                running[child.conn] = child
            timeout = max(0.0, min(c.deadline for c in running.values()) - time.monotonic())
            for conn in wait(list(running), timeout=timeout):
                child = running[conn]
                try:
                    message = pickle.loads(conn.recv_bytes())
                except (EOFError, OSError, pickle.UnpicklingError):
                    message = None
                if message == ("started",):
                    child.started = True
                    continue
                child.reply = message
                yield _finish(running.pop(conn), limits)
            now = time.monotonic()
            for conn in [c for c, child in running.items() if child.deadline <= now]:
                child = running.pop(conn)
                child.process.kill()
                yield _finish(child, limits, timed_out=True)
    finally:
        for child in running.values():
            child.process.kill()
            child.process.join()
            child.conn.close()


def _context() -> mp.context.BaseContext:
    if threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return mp.get_context("fork")
    context = mp.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def _start(context: mp.context.BaseContext, task: Task, limits: Limits) -> _Running:
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(child, task.func, task.args, limits), daemon=False,
                              name=f"reader {task.name}")
    process.start()
    child.close()
    return _Running(task, process, parent, time.monotonic() + limits.wall_seconds)


def _finish(child: _Running, limits: Limits, timed_out: bool = False) -> tuple[Task, Any, str | None, bool]:
    child.process.join()
    child.conn.close()
    task, reply = child.task, child.reply
    if reply is not None and reply[0] == "ok":
        return task, reply[1], None, False
    if reply is not None:
        return task, None, reply[1], reply[0] == "rejected"
    if not child.started:
        return task, None, f"{task.name}: the reader process could not start (exit code {child.process.exitcode})", False
    return task, None, f"{task.name}: {_death(child.process.exitcode, limits, timed_out)}; the file was refused", True


def _death(exitcode: int | None, limits: Limits, timed_out: bool) -> str:
    if timed_out:
        return f"reading it took longer than {limits.wall_seconds:g} s"
    if exitcode is not None and -exitcode in (signal.SIGXCPU, signal.SIGKILL):
        return f"reading it used more than {limits.cpu_seconds} s of CPU or was killed"
    what = f"signal {signal.Signals(-exitcode).name}" if exitcode and exitcode < 0 else f"exit code {exitcode}"
    return (f"the reader process died ({what}), most likely over the memory limit of "
            f"{limits.memory_bytes / 2**30:g} GiB for one file")


def _child_main(conn: Connection, func: Callable[..., Any], args: tuple, limits: Limits) -> None:
    _limit_self(limits)
    conn.send_bytes(pickle.dumps(("started",)))
    try:
        reply: tuple = ("ok", func(*args))
        data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except InputError as exc:
        data = pickle.dumps(("rejected", str(exc)))
    except _REJECTING as exc:
        data = pickle.dumps(("rejected", f"{_name_of(args)}: {type(exc).__name__}: {exc}"[:2000]))
    except BaseException as exc:  # a reader bug: reported, not a rejection
        data = pickle.dumps(("error", f"{_name_of(args)}: {type(exc).__name__}: {exc}"[:2000]))
    conn.send_bytes(data)
    conn.close()


def _name_of(args: tuple) -> str:
    return next((os.path.basename(str(a)) for a in args if isinstance(a, (str, os.PathLike))), "input file")


def _limit_self(limits: Limits) -> None:
    """Lower this process's own limits (only ever lowered: a child cannot raise them back)."""
    os.environ["RUST_BACKTRACE"] = "0"  # a calamine abort prints one line, not a backtrace
    faulthandler.disable()  # nor Python's dump of every thread (the parent reports the death)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    _lower(resource.RLIMIT_AS, _address_space() + limits.memory_bytes)
    _lower(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 5)
    if sys.platform.startswith("linux"):  # die with the parent (SIGKILL), never outlive it
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _lower(which: int, soft: int, hard: int | None = None) -> None:
    old_soft, old_hard = resource.getrlimit(which)
    cap = old_hard if old_hard != resource.RLIM_INFINITY else None
    new_hard = old_hard if hard is None else (hard if cap is None else min(hard, cap))
    new_soft = soft if new_hard == resource.RLIM_INFINITY else min(soft, new_hard)
    if old_soft != resource.RLIM_INFINITY:
        new_soft = min(new_soft, old_soft)
    resource.setrlimit(which, (new_soft, new_hard))


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0
