"""Where the pages' computations run: worker processes (both cores, outside the server's GIL) behind
bounded, single-flight caches keyed on plain, validated config values.

- Workers: BACKPROP_LAB_WORKERS processes (default: one per core), forked from a server process that
  has imported torch once. 0 runs every job in the calling thread (the AppTest suite does that).
  Beside them one more, at the lowest CPU priority (nice CHECK_NICE), trains the rounding twins
  (idle_work.py): the operating system gives it only the CPU that learners' work leaves over.
- Caches: a result is computed once however many sessions ask for it at the same moment, and
  memory is bounded (runs by total size, the rest by count), so it cannot grow with the number of
  learners or URLs.
- Progress: a worker reports (done, total) of its job in shared memory; the waiting page turns it
  into a progress bar.

This module imports no torch (tests/test_server_process.py checks it).
"""
from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import astuple

from backprop_core import jobs
from backprop_core.budget import estimate_seconds
from backprop_core.config import TrainConfig

Progress = Callable[[int, int], None] | None
WORKERS = int(os.environ.get("BACKPROP_LAB_WORKERS", os.cpu_count() or 1))
POLL_SECONDS = 0.1
CHECK_NICE = 19           # the rounding-check worker's niceness: it gets only the CPU nobody else wants


# ---------------------------------------------------------------- caches
class BoundedCache:
    """A thread-safe, single-flight LRU dict for plain-keyed results.

    - bounded: at most `max_entries` values, and at most `max_bytes` by `size_of`; the least
      recently used go first;
    - single-flight: when many sessions ask for the same missing key at once, one computes and the
      others wait for it (30 learners opening one link do the work once, not 30 times)."""

    def __init__(self, max_entries: int, max_bytes: float = float("inf"), size_of: Callable = lambda v: 0):
        self.max_entries, self.max_bytes, self.size_of = max_entries, max_bytes, size_of
        self._data: OrderedDict = OrderedDict()
        self._sizes: dict = {}
        self._lock = threading.Lock()
        self._inflight: dict = {}

    def get(self, key):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        return None

    def get_or_compute(self, key, compute):
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            gate = self._inflight.get(key)
            owner = gate is None
            if owner:
                gate = self._inflight[key] = threading.Event()
        if not owner:
            gate.wait()
            with self._lock:
                if key in self._data:
                    return self._data[key]
            return self.get_or_compute(key, compute)      # the owner failed: try ourselves
        try:
            value = compute()
            with self._lock:
                self._data[key] = value
                self._sizes[key] = self.size_of(value)
                while len(self._data) > self.max_entries or (
                        len(self._data) > 1 and sum(self._sizes.values()) > self.max_bytes):
                    old, _ = self._data.popitem(last=False)
                    self._sizes.pop(old, None)
            return value
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            gate.set()

    def __len__(self) -> int:
        return len(self._data)



def _run_size(value) -> int:
    run, _ = value
    arrays = [run.stats, run.metrics, run.X_train, *run.surfaces.values(), *run.grad_hist.values()]
    return sum(a.nbytes for a in arrays) + 20_000


def _columns_size(columns: dict) -> int:
    return sum(v.nbytes if hasattr(v, "nbytes") else sum(len(str(x)) for x in v) for v in columns.values())


RUNS = BoundedCache(max_entries=256, max_bytes=200e6, size_of=_run_size)
RESULTS = BoundedCache(max_entries=128)          # ledgers, model reports, sweeps, fix rows
FRAMES = BoundedCache(max_entries=64, max_bytes=100e6, size_of=_columns_size)     # chart columns per key


# ---------------------------------------------------------------- workers
_progress = None          # in a worker: shared doubles, three per worker: job id, done, total
_slot = None


def _init_worker(progress, counter, server_pid: int, nice: int) -> None:
    global _progress, _slot
    if nice:
        os.nice(nice)
    with counter.get_lock():
        _slot = counter.value
        counter.value += 1
    _progress = progress
    threading.Thread(target=_exit_with, args=(server_pid,), name="backprop-lab-orphan-check", daemon=True).start()
    jobs.warm()


def _exit_with(server_pid: int, every: float = 1.0) -> None:
    """In a worker: exit as soon as the server is gone. A server killed by its pid (a crash, a
    deploy, a test) cannot shut its pool down, and a pool worker waiting for its next job would
    otherwise wait forever, holding torch's memory (and the forkserver) with it."""
    while True:
        time.sleep(every)
        try:
            os.kill(server_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:          # the pid now belongs to someone else's process
            os._exit(0)


def _report(job_id: int, done: int, total: int) -> None:
    base = 3 * _slot
    _progress[base:base + 3] = [float(job_id), float(done), float(total)]


def _in_worker(job_id: int, name: str, args: tuple):
    report = (lambda done, total: _report(job_id, done, total)) if name in jobs.WITH_PROGRESS else None
    return jobs.JOBS[name](*args, **({"progress": report} if report else {}))


def _workers_skip_main() -> None:
    """Worker processes must not re-run the page script. Streamlit runs each page (and server.py) as
    the module __main__, with the script's __file__, and multiprocessing's forkserver and spawn
    start methods re-import the parent's __main__ in every new worker: that would run the app, and
    the warm-up, a second time in each worker. The workers need nothing from it, so their start-up
    data leaves it out.

    Why a patch of multiprocessing.spawn.get_preparation_data and no public mechanism: the one
    documented remedy ("safe importing of main module") is an `if __name__ == "__main__":` guard in
    the main module, and here that module is Streamlit's execution of our script, where code runs
    at import by design; multiprocessing has no option to skip the re-import, fork (which would
    not re-import) is unsafe in a threaded server, and swapping sys.modules["__main__"] while
    workers start would race with the page scripts Streamlit is running. The patch only removes
    the two keys that name __main__, and is tested (tests/test_server_process.py)."""
    from multiprocessing import spawn
    if getattr(spawn.get_preparation_data, "skips_main", False):
        return
    original = spawn.get_preparation_data

    def get_preparation_data(name):
        data = original(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    get_preparation_data.skips_main = True
    spawn.get_preparation_data = get_preparation_data


class Workers:
    """A process pool started on first use (or by `warm_up`), its processes at niceness `nice`."""

    def __init__(self, count: int, nice: int = 0):
        self.count, self.nice = count, nice
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._progress = None
        self._busy = 0                   # learners' jobs submitted and not finished (guesses not counted)
        self._last_busy = -math.inf      # when a learner's job last started or ended (monotonic seconds)

    def pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                _workers_skip_main()
                ctx = multiprocessing.get_context("forkserver")
                ctx.set_forkserver_preload(["backprop_core.jobs", "torch", "backprop_core.training"])
                self._progress = ctx.Array("d", 3 * self.count, lock=False)
                counter = ctx.Value("i", 0)
                self._pool = ProcessPoolExecutor(self.count, mp_context=ctx, initializer=_init_worker,
                                                 initargs=(self._progress, counter, os.getpid(), self.nice))
            return self._pool

    def call(self, name: str, *args, progress: Progress = None, guess: bool = False):
        """Run job `name` in a worker and wait for it; `progress(done, total)` while it runs. A
        `guess` (idle work: a rounding twin or a guessed view) does not count as a learner's job."""
        if self.count == 0:
            kwargs = {"progress": progress} if name in jobs.WITH_PROGRESS and progress else {}
            return jobs.JOBS[name](*args, **kwargs)
        job_id = next(self._ids)
        if not guess:
            self._mark(+1)
        try:
            future = self.pool().submit(_in_worker, job_id, name, args)
            while True:
                try:
                    return future.result(timeout=POLL_SECONDS)
                except FutureTimeout:
                    if progress is not None:
                        self._report_progress(job_id, progress)
        finally:
            if not guess:
                self._mark(-1)

    def _mark(self, change: int) -> None:
        """A learner's job starts (+1) or ends (-1)."""
        with self._lock:
            self._busy += change
            self._last_busy = time.monotonic()

    def pids(self) -> list[int]:
        """The worker processes' pids (none before the pool starts)."""
        with self._lock:
            return list(self._pool._processes) if self._pool is not None else []

    def quiet_for(self) -> float:
        """Seconds since a learner's job last ran; 0 while one runs or waits for a worker."""
        return 0.0 if self._busy else time.monotonic() - self._last_busy

    def _report_progress(self, job_id: int, progress) -> None:
        values = list(self._progress)
        for slot in range(self.count):
            if values[3 * slot] == job_id and values[3 * slot + 2] > 0:
                progress(int(values[3 * slot + 1]), int(values[3 * slot + 2]))

    def shutdown(self) -> None:
        """Stop the workers (the server is stopping); queued jobs are dropped."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None

    def warm_up(self) -> None:
        """Start every worker now (each imports torch), so the first learner does not wait."""
        if self.count:
            futures = [self.pool().submit(jobs.warm) for _ in range(self.count)]
            for f in futures:
                f.result()


WORKERS_POOL = Workers(WORKERS)
CHECKS_POOL = Workers(1 if WORKERS else 0, nice=CHECK_NICE)


# ---------------------------------------------------------------- what the pages call
def diagnosed_run(cfg: TrainConfig, progress: Progress = None, guess: bool = False, check: bool = False):
    """(RunResult, Diagnosis) for a validated config: cached, single-flight, in a worker (a `check`
    in the low-priority one; a `guess` does not count as a learner's job)."""
    pool = CHECKS_POOL if check else WORKERS_POOL
    return RUNS.get_or_compute(astuple(cfg), lambda: pool.call("train_and_diagnose", cfg, progress=progress,
                                                              guess=guess or check))


_WAITERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="backprop-lab-wait")


def diagnosed_runs(cfgs: list[TrainConfig], progress: Progress = None,
                   on_wait: Callable[[], None] | None = None) -> list:
    """Several runs at once: each goes through `diagnosed_run` (cached, single-flight) in its own waiting
    thread, so the workers compute them side by side. `progress` hears about the first run (from a
    waiting thread: it must only record); `on_wait` is called in the caller's thread while waiting.
    Without workers the runs go one after the other in the caller's thread (`on_wait` after each)."""
    if WORKERS_POOL.count == 0:
        out = []
        for i, cfg in enumerate(cfgs):
            out.append(diagnosed_run(cfg, progress if i == 0 else None))
            if on_wait is not None:
                on_wait()
        return out
    futures = [_WAITERS.submit(diagnosed_run, cfg, progress if i == 0 else None) for i, cfg in enumerate(cfgs)]
    while wait(futures, timeout=POLL_SECONDS).not_done:      # returns the moment the last one is done
        if on_wait is not None:
            on_wait()
    return [f.result() for f in futures]


def in_background(fn, *args) -> None:
    """Run fn(*args) in one of the waiting threads (idle_work.py drains its queues there)."""
    _WAITERS.submit(fn, *args)


def cached_run(cfg: TrainConfig):
    """The (RunResult, Diagnosis) if it is already cached, else None (never computes)."""
    return RUNS.get(astuple(cfg))


def slow(cfg: TrainConfig) -> bool:
    """Worth a progress bar: about half a second of training or more."""
    return estimate_seconds(cfg) > 0.5


def job(name: str, *args, progress: Progress = None):
    """Any other job, cached by its name and plain arguments."""
    return RESULTS.get_or_compute((name, *args), lambda: WORKERS_POOL.call(name, *args, progress=progress))


def keyed_job(name: str, key: tuple, *args):
    """A job cached by its name and `key` (plain values that determine it) while its arguments may be
    unhashable data (arrays the key stands for)."""
    return RESULTS.get_or_compute((name, *key), lambda: WORKERS_POOL.call(name, *args))


def frames(key: tuple, build: Callable[[], dict]) -> dict:
    """A chart's columns, built once per `key` (plain values that determine them): the player's frames
    (dashboard/player.py; a class pressing Play on one link builds them once) and charts a page draws
    unchanged on every rerun (computing.columns)."""
    return FRAMES.get_or_compute(key, build)


def cached_job(name: str, *args):
    """The job's result if it is already cached, else None (never computes)."""
    return RESULTS.get((name, *args))


def start_workers() -> None:
    """Boot the worker processes in the background (each imports torch, about two seconds)."""
    for pool in (WORKERS_POOL, CHECKS_POOL):
        if pool.count:
            threading.Thread(target=pool.warm_up, name="backprop-lab-workers", daemon=True).start()


def shutdown() -> None:
    """Stop every worker (the server is stopping)."""
    WORKERS_POOL.shutdown()
    CHECKS_POOL.shutdown()


def warm_up(configs: list[TrainConfig]) -> None:
    """Start the workers, then compute the views that shared links open first (presets and page
    defaults), in a background thread of the server."""
    if WORKERS_POOL.count == 0:          # jobs run inline (tests): nothing to warm
        return

    def work():
        started = time.perf_counter()
        WORKERS_POOL.warm_up()
        for cfg in configs:
            diagnosed_run(cfg)
        print(f"backprop-lab: workers ready and {len(configs)} views warm in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    threading.Thread(target=work, name="backprop-lab-warm-up", daemon=True).start()
