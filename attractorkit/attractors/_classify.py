"""Asymptotic classification: fixed point, periodic, quasi-periodic, chaotic, divergent — from
independent evidence, with ``undetermined`` when the evidence disagrees."""

from __future__ import annotations

import logging

import numpy as np

from .._kernels.compiling import compile_progress
from .._kernels.memory import workspace
from .._kernels.pipeline import RecordBuffer, map_threads, run_pipelined
from .._kernels.threads import single_blas_thread
from ..core._budget import check_memory, n_runs
from ..core._prepare import check_model_arg, kernel_spec, prepare_inputs, prepare_states
from ..core._validation import as_rng, check_bool, check_choice, check_int, check_positive
from ..dynamics import _engine as eng
from ..dynamics._lyapunov import package
from . import _features as F
from ._decide import (
    DIVERGENT,
    FIXED,
    PERIODIC,
    UNDETERMINED,
    Decision,
    approaching,
    converging,
    decide,
)
from ._gather import gather, zero_band
from ._matching import RunResults
from ._plan import N_WINDOWS, Plan
from ._results import Attractors, Evidence, assemble
from ._thresholds import as_thresholds

__all__ = ["classify_attractors", "Attractors", "Evidence"]

log = logging.getLogger(__name__)


def classify_attractors(model, inputs, *, initial_states=None, n_init=10, n_steps=2000,
                        n_transient=2000, n_check=400, lyapunov="auto", n_exponents=None,
                        max_extensions=2, thresholds=None, init_scale=1.0,
                        divergence_threshold=eng.DEFAULT_THRESHOLD, max_memory=2**28,
                        rng=None, progress=False) -> Attractors:
    """Label the attractor reached from each initial state under each constant input.

    For every run: ``n_transient`` steps, of which the last ``n_check`` are kept for quick tests
    (a step below ``fp_tol`` -> fixed point; an exact recurrence of period p that fits
    ``min_repeats`` times in them, on a map -> periodic). Unsettled runs (all runs with
    ``lyapunov="all"``) make a Lyapunov pass of ``n_steps`` steps with ``n_exponents`` tangent
    vectors (Benettin QR), recording the orbit. From the record: the exponents and how many are
    within the zero band max(5 / T, 4 stderr, 1e-4); the analysed points — a map's orbit, a
    flow's Poincaré section (the orbit of its first-return map) — as a point, a finite set
    (exact recurrence up to half their number), a closed curve (Laplacian-eigenmap ordering +
    constant rank shift = rotation on a circle) or other; the rotation number and its distance
    to p/q (q <= ``q_max``); whether near-returns still shrink; spectral lines; the correlation
    dimension; stationarity of the two halves. The rules, in order (details and thresholds:
    ``docs/dynamics.md``, :class:`ClassifierThresholds`):

    1. diverged -> ``divergent``;
    2. step below ``fp_tol`` or a single point -> ``fixed_point``;
    3. exact recurrence with period p (maps: steps; flows: section returns, lambda1 ~ 0) ->
       ``periodic`` if p fits ``min_repeats`` times in the record, else undetermined;
    4. Newton-confirmed, attracting and approached fixed point or p-cycle (slow transient) ->
       ``fixed_point`` / ``periodic`` with confidence <= 0.8;
    5. lambda1 > band -> ``chaotic`` if the points are no point, finite set or closed curve
       and the record's halves agree;
    6. |lambda1| <= band -> ``quasi_periodic`` with torus dimension d = number of zero
       exponents (a flow's included) if 1 <= d <= 3 (maps) / 2 <= d <= 4 (flows), the halves
       agree, near-returns do not shrink, the correlation dimension is near d, the spectrum
       has lines, for d = 1 (maps) / 2 (flows) the section is a closed curve whose rotation
       number is away from low-order p/q, and (flows) the crossing rate matches the dominant
       frequency. No cycle of period up to half the record looks like this: the reason says
       up to which period;
    7. anything else -> ``undetermined`` (reason: the checks that failed).

    A run left undetermined is extended: a new Lyapunov pass twice as long as the last, up to
    ``max_extensions`` times (the budget: ``n_steps * (2^(max_extensions + 1) - 1)`` recorded
    steps per run, 14000 by default). Flows with fewer than ``min_section_points`` section
    points are undetermined unless lambda1 > 3 x band. Attractors of one condition are matched
    across initial states (same label, and point sets within a few nearest-neighbour spacings
    of each other).

    Parameters
    ----------
    model : Model
    inputs : array_like of shape (n_input,) or (n_conditions, n_input), or None
        Constant inputs (frozen as parameters).
    initial_states : array_like, optional
        (n_init, n_state) shared or (n_conditions, n_init, n_state). Default: ``n_init``
        standard-normal states times ``init_scale``.
    n_steps, n_transient, n_check : int
        Recorded steps per Lyapunov pass, transient steps, states kept for the quick tests.
    lyapunov : {"auto", "all"}
        "auto" skips the exponents of runs already settled on a fixed point or exact cycle.
    n_exponents : int, optional
        Default min(n_state, 3) for maps, min(n_state, 4) for flows.
    max_extensions : int, default 2
        Extensions of an undetermined run, each recording twice the steps of the last pass.
    thresholds : ClassifierThresholds or dict, optional
        The thresholds of the rules (:class:`attractorkit.ClassifierThresholds`; a dict
        overrides the defaults by field name).
    max_memory : int
        Bytes of orbit records held at once; the recorded stages (quick-test window,
        Lyapunov passes) take the unsettled runs in batches that fit.
    rng : None, int or Generator
    progress : bool, default False
        Show a progress bar over the runs (and one over the kernels compiled on first use).

    Returns
    -------
    Attractors
    """
    flow, dt = check_model_arg(model)
    n = int(model.n_state)
    check_choice("lyapunov", lyapunov, ("auto", "all"))
    plan = Plan(
        model=model, flow=flow, dt=dt, thresholds=as_thresholds(thresholds),
        n_steps=check_int("n_steps", n_steps, minimum=50),
        n_transient=check_int("n_transient", n_transient, minimum=0),
        n_check=check_int("n_check", n_check, minimum=3),
        lyapunov_all=lyapunov == "all",
        n_exponents=min(n, 4 if flow else 3) if n_exponents is None else check_int(
            "n_exponents", n_exponents, minimum=1, maximum=n),
        max_extensions=check_int("max_extensions", max_extensions, minimum=0),
        divergence_threshold=check_positive("divergence_threshold", divergence_threshold),
        concurrent=kernel_spec(model) is not None)
    n_init = check_int("n_init", n_init, minimum=1)
    max_memory = check_int("max_memory", max_memory, minimum=1)
    rng = as_rng(rng)
    X, n_cond, _ = prepare_inputs(model, inputs, None, allow_varying=False)
    check_memory((8, n_runs(initial_states, n_init, n_cond), n, n + plan.n_exponents + 8),
                 argument="n_init", what="the runs' states, tangent frames and Jacobians")
    progress = check_bool("progress", progress)
    if initial_states is None:
        init_scale = check_positive("init_scale", init_scale)
        initial_states = init_scale * rng.standard_normal((n_init, n))
    H0 = prepare_states(model, initial_states, n_cond)
    buffer = RecordBuffer(n, max_memory, allocate=workspace)
    with compile_progress(progress):   # a bar over first-use compilations too
        results = _Run(plan, buffer, rng, progress).all(X, H0)
    return assemble(results, X, H0, model.time)


class _Run:
    """One classification. Work is batched across conditions: the transient runs for all runs
    at once; the recorded stages (the quick-test window, the Lyapunov passes) take the runs
    still unsettled in batches whose records fit the buffer's budget."""

    def __init__(self, plan: Plan, buffer: RecordBuffer, rng, progress):
        self.plan = plan
        self.buffer = buffer
        self.rng = rng
        self.progress = progress

    def all(self, X, H0):
        c, i, n = H0.shape
        B = c * i
        H = H0.reshape(B, n).copy()
        cidx = np.repeat(np.arange(c), i)
        r = RunResults(B, n, self.plan.n_exponents)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=B, desc="classify", unit="run")
        # one BLAS thread throughout: the kernels and the evidence threads parallelise over runs
        # (threaded OpenBLAS calls slow down 100x on a busy machine), and one limit around the
        # whole classification is never restored early by a thread leaving its own
        with single_blas_thread():
            pending = self._transient_and_quick(H, X, cidx, r)
            if bar is not None:
                bar.update(B - len(pending))
            for rnd in range(self.plan.max_extensions + 1):
                if not pending:
                    break
                again = self._lyapunov_round(np.array(pending), X, H, cidx, r, rnd)
                if bar is not None:
                    bar.update(len(pending) - len(again))
                pending = again
        if bar is not None:
            bar.close()
        r.final[:] = H
        r.final[r.label == DIVERGENT] = np.nan  # a stopped run has no final state
        r.match(c, i)
        return r

    # -- transient and quick tests --------------------------------------------------------------
    def _transient_and_quick(self, H, X, cidx, r):
        """Transient of every run, labels of the runs it settles; returns the runs pending."""
        plan = self.plan
        d, settled, region, n0 = self._transient(H, X, cidx)
        r.steps[:] = np.where(settled >= 0, settled, plan.n_transient)
        nA = plan.n_transient - n0
        pending = []
        for b in range(H.shape[0]):
            if d[b] >= 0:
                r.set(b, _diverged(f"left the bounds at step {d[b]}"))
                continue
            if region[b]:
                r.ev["step_size"][b] = 0.0
                r.set(b, _REGION_FIXED, loc=H[b], pts=H[b][None].copy())
            elif settled[b] >= 0 and settled[b] <= n0:  # before the quick-test window
                r.ev["step_size"][b] = 0.0
                r.set(b, _STEP_FIXED, loc=H[b], pts=H[b][None].copy())
            else:
                continue
            if plan.lyapunov_all:
                pending.append(b)
        live = np.flatnonzero((d < 0) & ~region & ((settled < 0) | (settled > n0)))
        # the quick-test window: the runs moving at its start, recorded in batches (the buffer
        # is sized for the first Lyapunov batch too)
        buf = self.buffer
        buf.reserve(max(min(live.size, buf.rows(nA)) * nA,
                        (min(live.size, buf.rows(plan.n_steps)) + 1) * plan.n_steps)
                    * H.shape[1])
        for idx in buf.batches(live, nA):
            RA = self._window(H, X, cidx, idx, n0, nA, d, settled, region, r)
            for j, b in enumerate(idx):
                if d[b] >= 0 or region[b]:
                    if d[b] >= 0:
                        r.set(b, _diverged(f"left the bounds at step {d[b]}"))
                    else:
                        r.ev["step_size"][b] = 0.0
                        r.set(b, _REGION_FIXED, loc=H[b], pts=H[b][None].copy())
                    if plan.lyapunov_all and d[b] < 0:
                        pending.append(b)
                elif nA < 3 or not self._quick(RA[j], r, b) or plan.lyapunov_all:
                    pending.append(b)
        return pending

    def _transient(self, H, X, cidx):
        """The first n_transient - n_check transient steps of every run, unrecorded (H
        advanced in place). Returns (diverged_at, settled_at, settled by region, n0)."""
        plan = self.plan
        nA = min(plan.n_check, plan.n_transient)
        n0 = plan.n_transient - nA
        region = np.zeros(H.shape[0], dtype=bool)
        _, d, settled = eng.rollout(
            plan.model, H, X, cidx, n_transient=n0, n_steps=0, stride=1,
            threshold=plan.divergence_threshold, n_rec=0, flow=plan.flow, dt=plan.dt,
            varying=False, settle_tol=plan.thresholds.fp_tol, by_region=region)
        return d, settled, region, n0

    def _window(self, H, X, cidx, idx, n0, nA, d, settled, region, r):
        """The last nA transient steps of runs idx, recorded; updates d, settled, region and
        the steps of the runs in place. Returns the records (idx.size, nA, n)."""
        plan = self.plan
        Hl = H[idx]
        reg = np.zeros(idx.size, dtype=bool)
        RA, dl, sl = eng.rollout(
            plan.model, Hl, X, cidx[idx], n_transient=0, n_steps=nA, stride=1,
            threshold=plan.divergence_threshold, n_rec=nA, flow=plan.flow, dt=plan.dt,
            varying=False, settle_tol=plan.thresholds.fp_tol, by_region=reg,
            out=self.buffer.view(idx.size, nA))
        H[idx] = Hl
        d[idx] = np.where(dl >= 0, dl + n0, -1)
        settled[idx] = np.where(sl >= 0, sl + n0, -1)
        region[idx] = reg
        r.steps[idx] = np.where(sl >= 0, sl + n0, self.plan.n_transient)
        return RA

    def _quick(self, R, r, b):
        """Settle run b from its quick-test window R if its step or an exact recurrence
        allows; returns whether it did."""
        st = self.plan.thresholds
        scale = F.scale_of(R)
        step = np.max(np.abs(R[-1] - R[-2])) / scale
        r.ev["step_size"][b] = step
        if step <= st.fp_tol:
            r.set(b, _STEP_FIXED, loc=R[-1], pts=R[-1:].copy())
            return True
        if self.plan.flow:
            return False
        p, err = F.exact_period(R, R.shape[0] // 2, st.period_tol * scale)
        r.ev["recurrence_error"][b] = err / scale
        if p == 0 or R.shape[0] < st.min_repeats * p:
            return False
        if p == 1:  # recurrence of period 1 within period_tol: a fixed point
            r.set(b, Decision(FIXED, confidence=1.0, reason="step below recurrence tolerance"),
                  loc=R[-1], pts=R[-1:].copy())
            return True
        r.ev["section_kind"][b] = "points"
        r.ev["n_section_points"][b] = p
        r.set(b, Decision(PERIODIC, float(p), confidence=1.0,
                          reason=f"exact recurrence with period {p}"),
              loc=R[-p:].mean(0), pts=R[-p:].copy())
        return True

    # -- Lyapunov passes ------------------------------------------------------------------------
    def _lyapunov_round(self, pending, X, H, cidx, r, k):
        """Lyapunov pass k of the pending runs, in batches (the evidence of a batch gathered
        while the next is simulated, for kernel models). Returns the runs to extend."""
        def simulate(idx, RB):
            return self._simulate(idx, X, H, cidx, RB, k)

        def judge(idx, RB, sim):
            return self._judge_all(idx, X, cidx, r, *sim, RB, k)

        done = run_pipelined(pending, self.buffer, self.plan.pass_steps(k), simulate, judge,
                             overlap=self.plan.concurrent)
        return [b for batch in done for b in batch]

    def _simulate(self, idx, X, H, cidx, RB, k):
        """Lyapunov pass k of runs idx, recorded into RB; returns (lam, se, diverged_at)."""
        plan = self.plan
        n, L = H.shape[1], plan.pass_steps(k)
        Hs = H[idx].copy()
        Q0 = eng.random_frames(idx.size, n, plan.n_exponents, self.rng)
        logsum, wins, dB, _ = eng.lyapunov(
            plan.model, Hs, X, cidx[idx], Q0, n_transient=0, n_steps=L, n_skip=plan.skip(k),
            qr_every=plan.qr_every(k), n_windows=N_WINDOWS,
            threshold=plan.divergence_threshold, n_rec=L, flow=plan.flow, dt=plan.dt,
            varying=False, out=RB)
        H[idx] = Hs
        spec = package(logsum, wins, dB, Hs, n_cond=1, n_init=idx.size, n_steps=L,
                       n_skip=plan.skip(k), qr_every=plan.qr_every(k), n_windows=N_WINDOWS,
                       flow=plan.flow, dt=plan.dt, time=plan.model.time, n_transient=0,
                       warn=False)
        return spec.exponents[0], spec.stderr[0], dB

    def _judge_all(self, idx, X, cidx, r, lam, se, dB, RB, k):
        """Evidence and labels of the runs idx after their Lyapunov pass k (records RB);
        returns the runs to extend."""
        plan = self.plan
        last = k == plan.max_extensions
        todo = []
        for j, b in enumerate(idx):
            r.steps[b] += plan.pass_steps(k)
            if dB[j] >= 0:
                r.set(b, _diverged("left the bounds"))
                continue
            settled = r.label[b] in (FIXED, PERIODIC)
            r.lam[b], r.se[b] = lam[j], se[j]
            if settled:  # lyapunov="all": exponents only, checked for contradiction
                band = zero_band(lam[j], se[j], plan.averaging_time(k), plan.thresholds)[0]
                if lam[j][0] > band:
                    r.set(b, Decision(UNDETERMINED, reason="settled orbit but lambda1 > 0"))
                continue
            todo.append((j, b))

        def judge(item):
            j, b = item
            return self._judge(RB[j], X[cidx[b], 0], lam[j], se[j], r, b, k)

        # the runs' evidence is independent (each fills its own rows of r)
        done = map_threads(judge, todo, concurrent=plan.concurrent)
        return [b for (_, b), ok in zip(todo, done) if not (ok or last)]

    def _judge(self, R, x, lam, se, r, b, k):
        """Gather evidence and decide; False when the run is left undetermined (worth a
        longer record)."""
        plan = self.plan
        st = plan.thresholds
        row = gather(plan.model, R, x, lam, se, averaging_time=plan.averaging_time(k),
                     flow=plan.flow, dt=plan.dt, thresholds=st)
        dec = decide(row, lam, stderr=se, flow=plan.flow, thresholds=st)
        slow = None
        lam1 = lam[0] if lam.size else np.nan
        # still in its transient: the halves of the record differ, the exponents contract, or
        # the return distances shrink. Only such runs can gain from Newton or more steps.
        transient = False
        if dec.label == UNDETERMINED:
            transient = not (abs(np.log(max(row["spread_ratio"], 1e-300))) <= st.stationary_tol
                             and row["mean_shift"] <= st.stationary_tol) \
                or not lam1 >= -row["zero_band"] \
                or approaching(R, flow=plan.flow)
        if transient:
            slow = converging(plan.model, R, x, flow=plan.flow)
            if slow is not None:
                row["converging_rate"] = slow.rate
                dec = decide(row, lam, stderr=se, flow=plan.flow, thresholds=st, slow=slow)
        r.set_evidence(b, row)
        if dec.label == FIXED:
            loc = slow.point if slow is not None else R[-1]
            pts = loc[None].copy()
        elif dec.label == PERIODIC and not plan.flow:
            p = int(dec.period)
            pts = _cycle(plan.model, slow.point, x, p) if slow is not None else R[-p:].copy()
            loc = pts.mean(0)
        else:
            loc = R.mean(0)
            k = min(R.shape[0], 400)  # a random (not strided: phases) sample of the orbit
            pts = R[np.sort(np.random.default_rng(b).choice(R.shape[0], k, replace=False))]
        r.set(b, dec, loc=loc, pts=pts)
        return dec.label != UNDETERMINED


def _diverged(reason) -> Decision:
    return Decision(DIVERGENT, confidence=1.0, reason=reason)


_STEP_FIXED = Decision(FIXED, confidence=1.0, reason="step below tolerance")
_REGION_FIXED = Decision(FIXED, confidence=1.0, reason="converges to the attracting fixed "
                         "point of its linear region")


def _cycle(model, h, x, p):
    """The orbit h, F(h), ..., F^{p-1}(h) of a map (the p-th iterate's orbit)."""
    from ..systems import Iterate

    return Iterate(model, p).orbit(h[None], x[None])[0, :p]
