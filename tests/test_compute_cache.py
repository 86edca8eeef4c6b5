"""The dashboard's bounded, single-flight cache."""
import pathlib
import threading
import time

from dashboard import guess_ahead, idle_work
from dashboard.compute import BoundedCache


def test_bounded_lru():
    c = BoundedCache(2)
    for k in "abc":
        c.get_or_compute(k, lambda k=k: k.upper())
    assert len(c) == 2
    calls = []
    assert c.get_or_compute("a", lambda: calls.append(1) or "A") == "A" and calls == [1]  # 'a' was evicted


def test_single_flight_under_concurrency():
    c, calls, results = BoundedCache(4), [], []

    def slow():
        calls.append(1)
        time.sleep(0.2)
        return 42

    threads = [threading.Thread(target=lambda: results.append(c.get_or_compute("k", slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [42] * 8 and len(calls) == 1


def test_a_failing_owner_does_not_block_the_others():
    c = BoundedCache(4)
    started = threading.Event()

    def boom():
        started.set()
        time.sleep(0.1)
        raise RuntimeError("no")

    errors = []
    t = threading.Thread(target=lambda: errors.append(_catch(lambda: c.get_or_compute("k", boom))))
    t.start()
    started.wait()
    assert c.get_or_compute("k", lambda: 7) == 7
    t.join()
    assert isinstance(errors[0], RuntimeError)


def _catch(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001
        return exc


def test_runs_side_by_side_in_workers_match_runs_inline(monkeypatch):
    """Two configs trained at once in two worker processes give, in order, what each gives inline."""
    from dataclasses import replace

    import numpy as np

    from backprop_core import jobs
    from backprop_core.config import TrainConfig
    from dashboard import compute

    base = TrainConfig(depth=2, width=8, epochs=6, n=120)
    cfgs = [base, replace(base, seed=base.seed + 1, act="tanh")]
    pool = compute.Workers(2)
    monkeypatch.setattr(compute, "WORKERS_POOL", pool)
    monkeypatch.setattr(compute, "RUNS", compute.BoundedCache(8))
    waits, caller = [], threading.get_ident()
    try:
        both = compute.diagnosed_runs(cfgs, on_wait=lambda: waits.append(threading.get_ident()))
        again = compute.diagnosed_runs(list(reversed(cfgs)))          # from the cache, in the order asked
    finally:
        if pool._pool is not None:
            pool._pool.shutdown()
    assert waits and set(waits) == {caller}               # the page's thread heard while it waited
    for (run, _), cfg in zip(both, cfgs, strict=True):
        inline, _ = jobs.train_and_diagnose(cfg)
        assert np.array_equal(run.metrics, inline.metrics) and np.array_equal(run.stats, inline.stats, equal_nan=True)
    assert not np.array_equal(both[0][0].metrics, both[1][0].metrics)
    assert again[0] is both[1] and again[1] is both[0]


def _two_workers(monkeypatch):
    from dashboard import compute
    pool = compute.Workers(2)
    monkeypatch.setattr(compute, "WORKERS_POOL", pool)
    monkeypatch.setattr(compute, "RUNS", compute.BoundedCache(8))
    monkeypatch.setattr(idle_work, "IDLE", idle_work.IdleWork())
    return pool


def test_a_guess_is_computed_ahead_while_the_workers_are_idle(monkeypatch):
    """The guessed next view lands in the run cache without anyone asking, and equals the run
    trained inline; the learner then gets it from the cache."""
    import numpy as np

    from backprop_core import jobs
    from backprop_core.config import TrainConfig
    from dashboard import compute

    pool = _two_workers(monkeypatch)
    guess = TrainConfig(depth=2, width=8, epochs=6, n=120, seed=13)
    try:
        idle_work.IDLE.guess([guess])
        deadline = time.monotonic() + 60
        while compute.cached_run(guess) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        ahead = compute.cached_run(guess)
        assert ahead is not None, "the guess was not computed"
        assert compute.diagnosed_run(guess) is ahead
    finally:
        if pool._pool is not None:
            pool._pool.shutdown()
    inline, _ = jobs.train_and_diagnose(guess)
    assert np.array_equal(ahead[0].metrics, inline.metrics)


def test_guesses_wait_for_learners_and_skip_costly_runs(monkeypatch):
    """A guess never starts while a learner's job runs (it is dropped), a run estimated above
    GUESS_SECONDS is never guessed, and with fewer than two workers nothing is."""
    from backprop_core.budget import estimate_seconds
    from backprop_core.config import TrainConfig
    from dashboard import compute

    pool = _two_workers(monkeypatch)
    cheap = TrainConfig(depth=2, width=8, epochs=6, n=120, seed=21)
    costly = TrainConfig(depth=12, width=64, epochs=200, n=1000)
    assert estimate_seconds(cheap) < guess_ahead.GUESS_SECONDS < estimate_seconds(costly)
    started = []
    monkeypatch.setattr(compute, "diagnosed_run", lambda cfg, progress=None, guess=False: started.append((cfg, guess)))
    pool._busy = 1                                   # a learner's job is running
    idle_work.IDLE.guess([cheap])
    time.sleep(0.5)
    assert started == [] and not idle_work.IDLE._guesses.todo and not idle_work.IDLE._guesses.draining
    pool._busy = 0
    pool._last_busy = time.monotonic()
    guess_ahead.after_move((TrainConfig(depth=12, width=64, epochs=200, n=1000, seed=1),), (costly,))   # guesses seed 1
    time.sleep(0.3)
    assert started == [] and not idle_work.IDLE._guesses.todo
    idle_work.IDLE.guess([cheap])
    deadline = time.monotonic() + 5
    while not started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert started == [(cheap, True)]
    monkeypatch.setattr(compute, "WORKERS_POOL", compute.Workers(1))
    idle_work.IDLE.guess([TrainConfig(seed=99)])
    time.sleep(0.3)
    assert started == [(cheap, True)]


def test_a_guess_waits_until_learners_have_been_quiet(monkeypatch):
    """A learner's job that ends while a guess waits pushes the guess back: it starts only once no
    learner's job has run for GUESS_DELAY."""
    from backprop_core.config import TrainConfig
    from dashboard import compute

    pool = _two_workers(monkeypatch)
    started = []
    monkeypatch.setattr(compute, "diagnosed_run",
                        lambda cfg, progress=None, guess=False: started.append(time.monotonic()))
    t0 = time.monotonic()
    idle_work.IDLE.guess([TrainConfig(depth=2, width=8, epochs=6, n=120, seed=31)])
    time.sleep(idle_work.GUESS_DELAY * 0.6)
    pool._mark(+1)                                   # a learner's job runs ...
    pool._mark(-1)                                   # ... and ends
    ended = time.monotonic()
    deadline = t0 + 5
    while not started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert started and started[0] - ended >= idle_work.GUESS_DELAY * 0.99


def test_a_rounding_check_trains_in_the_low_priority_worker_at_once_and_outlives_a_learners_move(monkeypatch):
    """A rounding twin goes to the low-priority worker as soon as it is asked for, even while a
    learner's job runs, and is not dropped by one (a waiting guess is)."""
    from backprop_core.config import TrainConfig
    from dashboard import compute

    pool = _two_workers(monkeypatch)
    monkeypatch.setattr(compute, "CHECKS_POOL", compute.Workers(1, nice=compute.CHECK_NICE))
    started, release = [], threading.Event()

    def fake_run(cfg, progress=None, guess=False, check=False):
        started.append((cfg.seed, check, guess))
        release.wait(5)
    monkeypatch.setattr(compute, "diagnosed_run", fake_run)
    check, later, guess = (TrainConfig(seed=1, precision="float32"), TrainConfig(seed=3, precision="float32"),
                           TrainConfig(seed=2))
    pool._busy = 1                                   # a learner's job is running
    idle_work.IDLE.guess([guess])
    idle_work.IDLE.check([check])
    deadline = time.monotonic() + 5
    while not started and time.monotonic() < deadline:
        time.sleep(0.005)
    assert started == [(1, True, False)]
    idle_work.IDLE.check([later])                    # waits for the one in training
    time.sleep(0.3)
    assert idle_work.IDLE.waiting(later) and not idle_work.IDLE.waiting(guess)
    release.set()
    while len(started) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert started == [(1, True, False), (3, True, False)]


def test_the_check_worker_runs_at_the_lowest_priority():
    from dashboard import compute
    checks = compute.Workers(1, nice=compute.CHECK_NICE)
    try:
        checks.warm_up()
        pids = list(checks.pool()._processes)
        niceness = [int(pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16]) for pid in pids]
        assert niceness == [compute.CHECK_NICE]
    finally:
        checks.shutdown()


def test_a_busy_machine_holds_the_checks_back():
    """One process spinning on one of two cores is half the machine: over CHECK_BUSY, so a check
    would wait (without /proc the share is unknown and checks are not held back)."""
    import os
    import subprocess
    import sys
    if not pathlib.Path("/proc/stat").exists():
        assert idle_work.MachineBusy().share() is None
        return
    busy = idle_work.MachineBusy()
    assert busy.share() is None                      # a first look knows nothing yet
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(max(1, (os.cpu_count() or 2) // 2))]
    try:
        time.sleep(idle_work.BUSY_WINDOW * 0.5)
        assert busy.share() == 1.0                   # too soon to tell: wait and look again
        time.sleep(idle_work.BUSY_WINDOW * 2)
        assert busy.share() >= idle_work.CHECK_BUSY
    finally:
        for p in spinners:
            p.kill()
            p.wait()


def test_checks_held_back_by_a_busy_machine_say_so_until_it_is_quiet(monkeypatch):
    """While the machine is busy a queued check waits and IDLE.held_back() is true (pages drawn then
    look for their twins less often); once it is quiet the check trains and held_back() is false."""
    from backprop_core.config import TrainConfig
    from dashboard import compute

    monkeypatch.setattr(idle_work, "IDLE", idle_work.IdleWork())
    monkeypatch.setattr(compute, "CHECKS_POOL", compute.Workers(1, nice=compute.CHECK_NICE))
    trained = []
    monkeypatch.setattr(compute, "diagnosed_run", lambda cfg, progress=None, guess=False, check=False:
                        trained.append(cfg.seed))
    busy = [1.0]
    monkeypatch.setattr(idle_work.IDLE._busy, "share", lambda: busy[0])
    assert not idle_work.IDLE.held_back()
    idle_work.IDLE.check([TrainConfig(seed=5, precision="float32")])
    deadline = time.monotonic() + 5
    while not idle_work.IDLE.held_back() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(idle_work.BUSY_WINDOW * 2)
    assert idle_work.IDLE.held_back() and trained == []
    busy[0] = 0.0
    while not trained and time.monotonic() < deadline:
        time.sleep(0.01)
    assert trained == [5] and not idle_work.IDLE.held_back()
