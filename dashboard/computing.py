"""The one way a page gets anything computed: `runs(*cfgs)` for training runs (each with its
rounding check) and `job(name, *args)` for the rest (ledgers, model checks, the depth sweep). Both
come from the cache or the workers (side by side), with a progress bar while a long one computes.

Pages show float64 runs. Each one's rounding twin is the same run in float32 (7 digits instead of
16, and PyTorch's default). Where the two read differently at the precision shown, or read alike
but close to where a digit shown would change (readout.rounding_check), rounding errors grew during
the run until they reached the digits shown, and the page says so instead of presenting those
digits as facts. Where neither holds, float32's rounding at every step left the shown digits well
alone, and so does another CPU, whose float64 rounding is a billion times smaller
(tests/test_rounding.py).

No learner waits for a twin. Twins train in the low-priority worker (idle_work.py), asked for
before their runs, so with a free core a twin trains while its run does and is ready when the page
draws (one learner on /flow). When it is not, the page shows the run at once, and a small fragment
looks for the twin every CHECK_POLL seconds and redraws the page with the notice once it is there.
While a busy class holds the checks back, a twin cannot be done within a second, and every open page
looking every second would cost the server more than the looks tell (bench/looks.py): pages drawn
then look every CHECK_POLL_BUSY seconds.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from backprop_core import readout
from backprop_core.config import FEWEST_SNAPSHOTS, TrainConfig
from dashboard import compute, guess_ahead, idle_work

LAST_RUNS_KEY = "_last_runs"
CHECK_POLL = 1.0                  # seconds between looks for a rounding twin trained as idle work
CHECK_POLL_BUSY = 5.0             # the same while the checks are held back by a busy machine
DRAWING_KEY = "_drawing_page"     # set while await_checks draws its look as part of the page


@dataclass(frozen=True)
class PageRun:
    """A run as a page shows it."""
    config: TrainConfig
    result: object                       # results.RunResult
    diagnosis: object                    # diagnose.Diagnosis
    readout: dict[str, str]              # readout.run_readout
    rounding: dict[str, readout.Moved] | None   # lines that depend on rounding; None: the twin is not done yet


def twin_of(cfg: TrainConfig) -> TrainConfig:
    """The same run in float32: its rounding check (which compares only what the page prints, so it
    keeps no more snapshots than the recorder must)."""
    return replace(cfg, precision="float32", snapshots=FEWEST_SNAPSHOTS)


def runs(*cfgs: TrainConfig, text: str = "Training the network…") -> list[PageRun]:
    """One PageRun per config: the runs from the cache or the workers (side by side), their twins
    from the low-priority worker when they are done (see the module's docstring)."""
    twins = [twin_of(c) for c in cfgs]
    found = {c: r for c in cfgs + tuple(twins) if (r := compute.cached_run(c)) is not None}
    missing_twins = [t for t in twins if t not in found]
    idle_work.IDLE.check(missing_twins)                      # first: they start while the runs train
    missing = [c for c in cfgs if c not in found] + ([] if idle_work.checks_enabled() else missing_twins)
    if missing:
        found |= dict(zip(missing, _runs_with_progress(missing, text), strict=True))
    found |= {t: r for t in missing_twins if t not in found and (r := compute.cached_run(t)) is not None}
    last, st.session_state[LAST_RUNS_KEY] = st.session_state.get(LAST_RUNS_KEY, ()), cfgs
    guess_ahead.after_move(last, cfgs)
    return [page_run(c, found[c], found.get(t)) for c, t in zip(cfgs, twins, strict=True)]


def ahead(cfgs: list[TrainConfig]) -> None:
    """Runs the page will likely show next (a run kept out of sight until the learner asks for it):
    trained while the workers would otherwise sit idle, never before a learner's own."""
    guess_ahead.soon(cfgs)


def page_run(cfg: TrainConfig, done, twin_done) -> PageRun:
    """A PageRun from (RunResult, Diagnosis) of the run and, when done, of its twin."""
    run, diagnosis = done
    lines = readout.readout_of(run, diagnosis)
    check = None if twin_done is None else readout.rounding_check(lines, readout.readout_of(*twin_done))
    return PageRun(cfg, run, diagnosis, lines.shown, check)


def _runs_with_progress(cfgs: list[TrainConfig], text: str) -> list:
    bar = st.progress(0.0, text=text) if any(compute.slow(c) for c in cfgs) else None
    seen: dict[str, int] = {}

    def show() -> None:                  # in this (the script's) thread
        if bar is not None and seen:
            bar.progress(seen["done"] / seen["total"], text=f"{text} epoch {seen['done']}/{seen['total']}")
    try:
        return compute.diagnosed_runs(cfgs, lambda done, total: seen.update(done=done, total=total), on_wait=show)
    finally:
        if bar is not None:
            bar.empty()


def job(name: str, *args, text: str | None = None):
    """Any other computation (backprop_core/jobs.py) by name and plain arguments, cached; with `text`, a
    progress bar while it computes (only then: a cached result draws no bar)."""
    if text is None or (done := compute.cached_job(name, *args)) is not None:
        return done if text is not None else compute.job(name, *args)
    bar = st.progress(0.0, text=text)
    try:
        return compute.job(name, *args, progress=lambda k, total: bar.progress(k / total, text=f"{text} {k}/{total}"))
    finally:
        bar.empty()


def columns(key: tuple, build) -> dict:
    """A chart's columns built once per `key` (plain values that determine them), for charts every
    rerun of a page draws unchanged (the depth sweep beside a Seed move)."""
    return compute.frames(key, build)


def _moved(label: str, m: readout.Moved) -> str:
    """One line of the rounding notice: what float32 shows instead."""
    if label == "Verdict":
        ours_word, twin_word = m.ours.split(". ")[0], m.twin.split(". ")[0]
        if ours_word != twin_word:
            return f"“{twin_word}” (here “{ours_word}”)"
        return ("the same verdict, with numbers in its evidence close to where their last digit shown changes"
                if m.close else "the same verdict with other numbers in its evidence")
    if m.close:
        return f"{label.lower()} {m.twin} (here {m.ours}: the same digits shown, close to where the last one changes)"
    return f"{label.lower()} {m.twin} (here {m.ours})"


def show_rounding(run: PageRun, name: str = "This run") -> None:
    """A notice when the run's readout depends on rounding, nothing when it does not, and while its
    twin is not done yet, a line that says so and redraws the page once it is. All of it in one
    container that is always there: whether a notice shows must not move the charts below it to
    another place in the page, or the browser rebuilds every one of them instead of updating it."""
    with st.container():
        _rounding_notice(run, name)


def _rounding_notice(run: PageRun, name: str) -> None:
    if run.rounding is None and (twin := compute.cached_run(twin_of(run.config))) is not None:
        run = page_run(run.config, (run.result, run.diagnosis), twin)          # done since the run was shown
    if run.rounding is None:
        await_checks([run.config], f"Checking {name.lower()} against rounding: the same run in float32 is training "
                                   "while the server is idle; a notice appears here if its digits depend on rounding.")
        return
    if not run.rounding:
        return
    lines = "; ".join(_moved(label, m) for label, m in run.rounding.items())
    st.warning(f"**Sensitive to rounding.** Pages compute in float64 (about 16 digits). In float32, PyTorch's "
               f"default (about 7 digits), {name.lower()} shows {lines}. Rounding errors grow during this run until "
               "they reach, or come close to, the digits shown, so this run's numbers may read differently on "
               "another CPU too.", icon=":material/blur_on:")


def await_checks(cfgs: list[TrainConfig], text: str) -> None:
    """While some of these runs' twins are not done: `text`, and a look every CHECK_POLL seconds
    (CHECK_POLL_BUSY while the checks are held back); once they are, the whole page again (which
    then draws no such look, so the looking stops)."""
    st.session_state[DRAWING_KEY] = True
    try:
        (_look_later if idle_work.IDLE.held_back() else _look_soon)(cfgs, text)
    finally:
        st.session_state[DRAWING_KEY] = False


def _look_for_twins(cfgs: list[TrainConfig], text: str) -> None:
    """The look itself. Its first run is part of the page's (DRAWING_KEY set): a twin done in the
    meantime waits for the next look, so the page is never rerun while it is being drawn."""
    twins = [twin_of(c) for c in cfgs]
    if all(compute.cached_run(t) is not None for t in twins) and not st.session_state.get(DRAWING_KEY):
        st.rerun()
    idle_work.IDLE.check([t for t in twins if not idle_work.IDLE.waiting(t)])    # asked again if it was dropped
    st.caption(text)


@st.fragment(run_every=CHECK_POLL)
def _look_soon(cfgs: list[TrainConfig], text: str) -> None:
    _look_for_twins(cfgs, text)


@st.fragment(run_every=CHECK_POLL_BUSY)
def _look_later(cfgs: list[TrainConfig], text: str) -> None:
    _look_for_twins(cfgs, text)


def show_modes(run: PageRun, name: str = "this run") -> None:
    """Which mode the metrics use (BatchNorm) and what the optimiser minimises (weight decay)."""
    lines, task = run.readout, run.config.task
    score = readout.metric_labels(task)[0]                 # 'Train accuracy' or 'Train R²'
    if run.result.train_mode is not None:
        text = (f"**BatchNorm has two modes.** The metrics, curves and verdict of {name} use eval mode: each layer "
                "normalises with the running averages of mean and variance kept during training, as a deployed "
                "network does. In train mode, normalising with the training set's own statistics as during "
                f"training, its final training loss is {lines['Train loss with batch statistics']} and "
                f"{task.score_name} {lines[f'{score} with batch statistics']} (eval mode: {lines['Train loss']}, "
                f"{lines[score]}).")
        if readout.modes_differ(run.result):
            st.warning(text + " The two differ much: the running averages lag behind the weights.",
                       icon=":material/compare_arrows:")
        else:
            st.caption(text)
    if run.config.wd > 0:
        st.caption(f"**Weight decay.** The training loss shown is the {task.loss_name} alone. With weight decay the "
                   f"optimiser minimises the {task.loss_name} plus the L2 penalty wd/2 · ‖θ‖² (the grey curve): at the "
                   f"end {lines['Train loss']} + {lines['L2 penalty']} = {lines['Train loss + L2 penalty']}.")
