"""Asymptotic classification: fixed point, periodic, quasi-periodic, chaotic, divergent — from
independent evidence, with ``undetermined`` when the evidence disagrees."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._kernels.threads import one_blas_thread
from ..core._prepare import check_model_arg, kernel_spec, prepare_inputs, prepare_states
from ..core._validation import as_rng, check_choice, check_int, check_positive
from ..dynamics import _engine as eng
from ..dynamics._lyapunov import package
from . import _decide as D
from . import _features as F
from ._matching import RunResults
from ._results import Attractors, Evidence, assemble

__all__ = ["classify_attractors", "Attractors", "Evidence"]

log = logging.getLogger(__name__)

PIPELINE_MIN_RUNS = 16  # fewer pending runs than twice this: one batch, no overlap


def classify_attractors(model, inputs, *, initial_states=None, n_init=10, n_steps=2000,
                        n_transient=2000, n_check=400, lyapunov="auto", n_exponents=None,
                        max_extensions=2, thresholds=None, init_scale=1.0,
                        divergence_threshold=eng.DEFAULT_THRESHOLD, max_memory=2**28,
                        rng=None, progress=False) -> Attractors:
    """Label the attractor reached from each initial state under each constant input.

    For every run: ``n_transient`` steps, of which the last ``n_check`` are kept for quick tests
    (a step below ``fp_tol`` -> fixed point; an exact recurrence of period p <= ``p_max`` on a
    map -> periodic). Unsettled runs (all runs with ``lyapunov="all"``) continue ``n_steps``
    steps with ``n_exponents`` tangent vectors (Benettin QR), recording the orbit; from the
    record the evidence is gathered: exponents and how many are within the zero band
    max(5 / T, 4 stderr, 1e-4); the "section" (the map's orbit, or the flow's Poincaré section)
    as a point, finite set, closed curve (Laplacian-eigenmap ordering + constant rank shift =
    rotation on a circle) or other; the rotation number and its distance to low-order rationals;
    the share of power in spectral lines; the correlation dimension; stationarity of the two
    halves. The decision rules, in order:

    1. diverged -> ``divergent``;
    2. step below ``fp_tol`` or section a single point -> ``fixed_point`` (``undetermined`` if
       lambda1 > band);
    3. exact recurrence (maps) / k tight section clusters with lambda1 ~ 0 > lambda2 (flows) ->
       ``periodic`` (``undetermined`` if lambda1 > band);
    4. Newton-confirmed, attracting and approached fixed point or p-cycle (slow transient) ->
       ``fixed_point`` / ``periodic`` with confidence <= 0.8;
    5. lambda1 > band -> ``chaotic`` if the section is not a point, finite set or closed curve
       and the spectrum is not a line spectrum; else ``undetermined``;
    6. |lambda1| <= band -> ``quasi_periodic`` with torus dimension d = number of zero
       exponents if d >= 1 (maps) / 2 (flows), the halves are stationary, the correlation
       dimension is within 0.35 of d, the spectrum is a line spectrum, for d = 1 (maps) / 2
       (flows) the section is a closed curve with a rotation number away from p/q (q <= 50),
       and for flows the crossing rate matches the dominant frequency; else ``undetermined``;
    7. anything else (lambda1 < -band but not settled) -> ``undetermined``.

    Undetermined runs still in their transient (non-stationary halves, lambda1 < -band, or
    return distances |h_{t+p} - h_t| that shrink along the record; only these are tried with
    rule 4) and undetermined runs with lambda1 > band are continued for another ``n_steps`` (up
    to ``max_extensions`` times) before the label is final; other undetermined runs sit on their
    attractor and keep the label of their first pass. Attractors of one condition are matched
    across initial states (same label, and point sets within a few nearest-neighbour spacings of
    each other).

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
    thresholds : dict, optional
        Overrides of the decision thresholds (field names of ``attractors._decide.Settings``).
    max_memory : int
        Bytes of orbit records held at once; the recorded stages (quick-test window,
        Lyapunov passes) take the unsettled runs in batches that fit.
    rng : None, int or Generator
    progress : bool

    Returns
    -------
    Attractors
    """
    flow, dt = check_model_arg(model)
    n = int(model.n_state)
    n_steps = check_int("n_steps", n_steps, minimum=50)
    n_transient = check_int("n_transient", n_transient, minimum=0)
    n_check = check_int("n_check", n_check, minimum=3)
    n_init = check_int("n_init", n_init, minimum=1)
    max_extensions = check_int("max_extensions", max_extensions, minimum=0)
    check_choice("lyapunov", lyapunov, ("auto", "all"))
    threshold = check_positive("divergence_threshold", divergence_threshold)
    max_memory = check_int("max_memory", max_memory, minimum=1)
    m_exp = min(n, 4 if flow else 3) if n_exponents is None else check_int(
        "n_exponents", n_exponents, minimum=1, maximum=n)
    st = D.settings(thresholds)
    rng = as_rng(rng)
    X, n_cond, _ = prepare_inputs(model, inputs, None, allow_varying=False)
    if initial_states is None:
        init_scale = check_positive("init_scale", init_scale)
        initial_states = init_scale * rng.standard_normal((n_init, n))
    H0 = prepare_states(model, initial_states, n_cond)
    run = _Run(model, flow, dt, st, n_steps, n_transient, n_check, lyapunov, m_exp,
               max_extensions, threshold, rng, max_memory, progress)
    return assemble(run.all(X, H0), X, n_cond, H0.shape[1], model.time)


class _Run:
    """One classification run (settings shared). Work is batched across conditions: the
    transient runs for all runs at once; the recorded stages (the quick-test window, the
    Lyapunov passes) take the runs still unsettled in batches whose records fit
    ``max_memory``."""

    def __init__(self, model, flow, dt, st, n_steps, n_transient, n_check, lyapunov, m_exp,
                 max_extensions, threshold, rng, max_memory, progress):
        self.__dict__.update(locals())
        del self.__dict__["self"]
        self.work = None
        self.n_skip = n_steps // 10
        self.T = (n_steps - self.n_skip) * (dt if flow else 1.0)
        # QR every 5 steps when that keeps every window boundary on a QR step (the windows,
        # hence exponents and standard errors, are then the same as with QR every step)
        q = 5
        self.qr_every = q if self.n_skip % q == 0 and (n_steps - self.n_skip) % (10 * q) == 0 \
            else 1

    def _batches(self, idx, n_rec):
        return [idx[k:k + self._rows(n_rec)] for k in range(0, idx.size, self._rows(n_rec))]

    def _rows(self, n_rec):
        """Runs whose records of n_rec states fit max_memory."""
        return max(1, int(self.max_memory // max(n_rec * int(self.model.n_state) * 8, 1)))

    def _records(self, B, n_rec, reserve=0):
        """A (B, n_rec, n) view of one record buffer shared by the quick-test window and the
        Lyapunov passes (fresh memory costs a page fault per page: one buffer, touched once).
        ``reserve`` elements are set aside for later, larger requests. Point sets kept from the
        records must be copies."""
        need = B * n_rec * int(self.model.n_state)
        if self.work is None or self.work.size < need:
            self.work = eng.workspace(max(need, reserve))  # untouched pages cost nothing
        return self.work[:need].reshape(B, n_rec, int(self.model.n_state))

    def all(self, X, H0):
        c, i, n = H0.shape
        B = c * i
        H = H0.reshape(B, n).copy()
        cidx = np.repeat(np.arange(c), i)
        r = RunResults(B, n, self.m_exp)
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=B, desc="classify", unit="run")
        # one BLAS thread throughout: the kernels and the evidence threads parallelise over runs
        # (threaded OpenBLAS calls slow down 100x on a busy machine), and one limit around the
        # whole classification is never restored early by a thread leaving its own
        with one_blas_thread():
            pending = self._transient_and_quick(H, X, cidx, r)
            if bar is not None:
                bar.update(B - len(pending))
            for rnd in range(self.max_extensions + 1):
                if not pending:
                    break
                again = self._lyapunov_round(np.array(pending), X, H, cidx, r,
                                             last=rnd == self.max_extensions)
                if bar is not None:
                    bar.update(len(pending) - len(again))
                pending = again
        if bar is not None:
            bar.close()
        r.final[:] = H
        r.final[r.label == D.DIVERGENT] = np.nan  # a stopped run has no final state
        r.match(c, i, self.st)
        return r

    def _transient_and_quick(self, H, X, cidx, r):
        """Transient of every run, labels of the runs it settles; returns the runs pending."""
        d, settled, region, n0 = self._transient(H, X, cidx)
        r.steps[:] = np.where(settled >= 0, settled, self.n_transient)
        nA = self.n_transient - n0
        pending = []
        for b in range(H.shape[0]):
            if d[b] >= 0:
                r.set(b, D.DIVERGENT, conf=1.0, reason=f"left the bounds at step {d[b]}")
                continue
            if region[b]:
                r.ev["step_size"][b] = 0.0
                r.set(b, D.FIXED, conf=1.0, reason="converges to the attracting fixed point "
                      "of its linear region", loc=H[b], pts=H[b][None].copy())
            elif settled[b] >= 0 and settled[b] <= n0:  # before the quick-test window
                r.ev["step_size"][b] = 0.0
                r.set(b, D.FIXED, conf=1.0, reason="step below tolerance", loc=H[b],
                      pts=H[b][None].copy())
            else:
                continue
            if self.lyapunov == "all":
                pending.append(b)
        live = np.flatnonzero((d < 0) & ~region & ((settled < 0) | (settled > n0)))
        # the quick-test window: the runs moving at its start, recorded in batches (the buffer
        # is sized for the first Lyapunov batch too)
        n = H.shape[1]
        self._records(0, 0, reserve=max(min(live.size, self._rows(nA)) * nA,
                                        (min(live.size, self._rows(self.n_steps)) + 1)
                                        * self.n_steps)
                      * n)
        for idx in self._batches(live, nA):
            RA = self._window(H, X, cidx, idx, n0, nA, d, settled, region, r)
            for j, b in enumerate(idx):
                if d[b] >= 0 or region[b]:
                    if d[b] >= 0:
                        r.set(b, D.DIVERGENT, conf=1.0, reason=f"left the bounds at step {d[b]}")
                    else:
                        r.ev["step_size"][b] = 0.0
                        r.set(b, D.FIXED, conf=1.0, reason="converges to the attracting fixed "
                              "point of its linear region", loc=H[b], pts=H[b][None].copy())
                    if self.lyapunov == "all" and d[b] < 0:
                        pending.append(b)
                elif nA < 3 or not self._quick(RA[j], r, b) or self.lyapunov == "all":
                    pending.append(b)
        return pending

    def _transient(self, H, X, cidx):
        """The first n_transient - n_check transient steps of every run, unrecorded (H
        advanced in place). Returns (diverged_at, settled_at, settled by region, n0)."""
        nA = min(self.n_check, self.n_transient)
        n0 = self.n_transient - nA
        region = np.zeros(H.shape[0], dtype=bool)
        _, d, settled = eng.rollout(self.model, H, X, cidx, n0, 0, 1, self.threshold, 0,
                                    flow=self.flow, dt=self.dt, varying=False,
                                    settle_tol=self.st.fp_tol, by_region=region)
        return d, settled, region, n0

    def _window(self, H, X, cidx, idx, n0, nA, d, settled, region, r):
        """The last nA transient steps of runs idx, recorded; updates d, settled, region and
        the steps of the runs in place. Returns the records (idx.size, nA, n)."""
        Hl = H[idx]
        reg = np.zeros(idx.size, dtype=bool)
        RA, dl, sl = eng.rollout(self.model, Hl, X, cidx[idx], 0, nA, 1, self.threshold, nA,
                                 flow=self.flow, dt=self.dt, varying=False,
                                 settle_tol=self.st.fp_tol, by_region=reg,
                                 out=self._records(idx.size, nA))
        H[idx] = Hl
        d[idx] = np.where(dl >= 0, dl + n0, -1)
        settled[idx] = np.where(sl >= 0, sl + n0, -1)
        region[idx] = reg
        r.steps[idx] = np.where(sl >= 0, sl + n0, self.n_transient)
        return RA

    def _quick(self, R, r, b):
        scale = F.scale_of(R)
        step = np.max(np.abs(R[-1] - R[-2])) / scale
        r.ev["step_size"][b] = step
        if step <= self.st.fp_tol:
            r.set(b, D.FIXED, conf=1.0, reason="step below tolerance", loc=R[-1],
                  pts=R[-1:].copy())
            return True
        if self.flow:
            return False
        p, err = F.exact_period(R, self.st.p_max, self.st.period_tol * scale)
        r.ev["recurrence_error"][b] = err / scale
        if p == 0:
            return False
        if p == 1:  # recurrence of period 1 within period_tol: a fixed point
            r.set(b, D.FIXED, conf=1.0, reason="step below recurrence tolerance", loc=R[-1],
                  pts=R[-1:].copy())
            return True
        r.ev["section_kind"][b] = "points"
        r.ev["n_section_points"][b] = p
        r.set(b, D.PERIODIC, period=float(p), conf=1.0,
              reason=f"exact recurrence with period {p}", loc=R[-p:].mean(0),
              pts=R[-p:].copy())
        return True

    def _lyapunov_round(self, pending, X, H, cidx, r, last):
        """One Lyapunov pass of the pending runs, in batches. The evidence of a batch is
        gathered (in worker threads) while the next batch is simulated (the kernel releases
        the GIL), so the records of two batches are held at once: batches of at most half the
        runs whose records fit ``max_memory``, in two alternating halves of the buffer.
        Models other than the kernel models may not expect concurrent calls of their ``step``
        and ``jacobian``: for them simulation and evidence take turns. Returns the runs to
        extend."""
        if kernel_spec(self.model) is None:
            again = []
            for idx in self._batches(pending, self.n_steps):
                RB = self._records(idx.size, self.n_steps)
                again += self._judge_all(idx, X, cidx, r,
                                         *self._simulate(idx, X, H, cidx, RB), RB, last)
            return again
        half = max(1, self._rows(self.n_steps) // 2)
        nb = -(-pending.size // half)
        if nb == 1 and pending.size >= 2 * PIPELINE_MIN_RUNS:
            nb = 2  # two halves: the second's simulation overlaps the first's evidence
        batches = np.array_split(pending, nb)
        size = batches[0].size
        R = self._records(2 * size if nb > 1 else size, self.n_steps)
        again, pending_judge = [], None
        with ThreadPoolExecutor(1) as judge:
            for k, idx in enumerate(batches):
                RB = R[(k % 2) * size:(k % 2) * size + idx.size]
                sim = self._simulate(idx, X, H, cidx, RB)
                if pending_judge is not None:
                    again += pending_judge.result()
                pending_judge = judge.submit(self._judge_all, idx, X, cidx, r, *sim, RB, last)
            again += pending_judge.result()
        return again

    def _simulate(self, idx, X, H, cidx, RB):
        """The Lyapunov pass of runs idx, recorded into RB; returns (lam, se, diverged_at)."""
        n = H.shape[1]
        Hs = H[idx].copy()
        Q0 = eng.random_frames(idx.size, n, self.m_exp, self.rng)
        logsum, wins, dB, _ = eng.lyapunov(
            self.model, Hs, X, cidx[idx], Q0, 0, self.n_steps, self.n_skip, self.qr_every, 10,
            self.threshold, self.n_steps, flow=self.flow, dt=self.dt, varying=False, out=RB)
        H[idx] = Hs
        spec = package(logsum, wins, dB, Hs, 1, idx.size, self.n_steps, self.n_skip,
                       self.qr_every, 10,
                       self.flow, self.dt, self.model.time, 0, warn=False)
        return spec.exponents[0], spec.stderr[0], dB

    def _judge_all(self, idx, X, cidx, r, lam, se, dB, RB, last):
        """Evidence and labels of the runs idx after their Lyapunov pass (records RB);
        returns the runs to extend."""
        todo = []
        for j, b in enumerate(idx):
            r.steps[b] += self.n_steps
            if dB[j] >= 0:
                r.set(b, D.DIVERGENT, conf=1.0, reason="left the bounds")
                continue
            settled = r.label[b] in (D.FIXED, D.PERIODIC)
            r.lam[b], r.se[b] = lam[j], se[j]
            if settled:  # lyapunov="all": exponents only, checked for contradiction
                band = D.zero_band(lam[j], se[j], self.T, self.st)[0]
                if lam[j][0] > band:
                    r.set(b, D.UNDETERMINED, reason="settled orbit but lambda1 > 0")
                continue
            todo.append((j, b))

        def judge(item):
            j, b = item
            return self._judge(RB[j], X[cidx[b], 0], lam[j], se[j], r, b)

        # the runs' evidence is independent (each fills its own rows of r) and mostly LAPACK,
        # sorting and distance code that releases the GIL: one worker thread per core. Models
        # other than the kernel models may not expect concurrent calls: one thread for them.
        kernel = kernel_spec(self.model) is not None
        workers = min(len(todo), os.cpu_count() or 1) if kernel else 1
        if workers > 1:
            with ThreadPoolExecutor(workers) as ex:
                done = list(ex.map(judge, todo))
        else:
            done = [judge(item) for item in todo]
        return [b for (_, b), ok in zip(todo, done) if not (ok or last)]

    def _judge(self, R, x, lam, se, r, b):
        """Gather evidence and decide; False when the run is left undetermined while still in
        its transient (worth extending)."""
        st = self.st
        D.gather(self.model, R, x, lam, se, self.T, self.flow, self.dt, st, r.ev, b)
        label, period, tdim, conf, why = D.decide(r.ev, b, lam, self.flow, st, None)
        slow = None
        lam1 = lam[0] if lam.size else np.nan
        # still in its transient: the halves of the record differ, the exponents contract, or
        # the return distances shrink. Only such runs can gain from Newton or more steps.
        transient = False
        if label == D.UNDETERMINED:
            transient = not (abs(np.log(max(r.ev["spread_ratio"][b], 1e-300)))
                             <= st.stationary_tol and r.ev["mean_shift"][b] <= st.stationary_tol) \
                or not lam1 >= -r.ev["zero_band"][b] or D.approaching(R, self.flow, st)
        if transient:
            slow = D.converging(self.model, R, x, self.flow, st)
            if slow is not None:
                r.ev["converging_rate"][b] = slow[2]
                label, period, tdim, conf, why = D.decide(r.ev, b, lam, self.flow, st, slow)
        if label == D.FIXED:
            loc = slow[1] if slow is not None else R[-1]
            pts = loc[None].copy()
        elif label == D.PERIODIC and not self.flow:
            p = int(period)
            if slow is not None:
                pts = _cycle(self.model, slow[1], x, p)
            else:
                pts = R[-p:].copy()
            loc = pts.mean(0)
        else:
            loc = R.mean(0)
            k = min(R.shape[0], 400)  # a random (not strided: phases) sample of the orbit
            pts = R[np.sort(np.random.default_rng(b).choice(R.shape[0], k, replace=False))]
        r.set(b, label, period=period, tdim=tdim, conf=conf, reason=why, loc=loc, pts=pts)
        # extend runs still in their transient, and orbits with lambda1 > 0 (the evidence on a
        # chaotic orbit is statistical: a new record is a new sample); other undetermined runs
        # sit on their attractor, and more of the same record would not change the evidence
        return label != D.UNDETERMINED or not (transient or lam1 > r.ev["zero_band"][b])


def _cycle(model, h, x, p):
    pts = [h]
    for _ in range(p - 1):
        pts.append(eng.numpy_advance(model, pts[-1][None], x[None], False, None)[0])
    return np.array(pts)
