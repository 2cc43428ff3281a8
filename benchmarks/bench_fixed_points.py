"""Fixed points of a 250-unit ReLU RNN: attractorkit against FixedPointFinder's method.

Network: a leaky ReLU map h' = h/2 + relu(W h + U x + b)/2 (alpha = 0.5, so that mutual
inhibition does not make the map flip-flop), N = 250, in 5 groups of 50 units that excite
themselves and inhibit each other (within-group weight 0.5/50, between-group -1/50) plus
random coupling of SD 0.05/sqrt(N); b = 1, U ~ N(0, 0.1^2), one constant input x = 0.2.
Every non-empty set of active groups is a fixed point (up to 31: 5 stable "winner" states
and saddles), a structure like the decision attractors of trained networks.

Seeds: 1024 states sampled from 128 trajectories of 100 steps started at N(0, 1) (the same seeds
for both methods).

Baseline: FixedPointFinder's joint optimisation re-implemented in PyTorch (float64): loss = mean
over the batch of q = |F(h) - h|^2 / 2, Adam (eps 0.01), learning rate 1.0 with FPF's adaptive
schedule (x0.95 after 5 steps without improvement, x1/0.95 after 5 steps of improvement, floor
1e-3), stop when every point has q < 1e-12 or |dq| < 1e-20 lr, at most 5000 iterations. Its
points with q < 1e-12 are de-duplicated at max-norm distance 1e-3 (FPF's tol_unique).

attractorkit: ``find_fixed_points(model, x, initial_states=seeds, n_init=1024)`` (exact
solutions of the visited ReLU regions + midpoint exploration + de-duplication, per-point Newton
for what is left), timed with ``stability=False`` (the points, as the baseline is timed to
q < 1e-12 and de-duplication) and with its default linear stability (eigen-decomposition and
leading modes of every unique point), which is compared with the baseline plus FPF's own
default last steps (Jacobians by autograd and ``np.linalg.eig`` of each unique point).
Reported: wall time of each, both ratios, number of unique fixed points with q < 1e-12, and the
largest max-norm distance from a baseline point to the nearest attractorkit point ("found" when
below 1e-3, FPF's de-duplication tolerance). attractorkit's times are the best of
``--repeats``; the baseline runs once.

Second part (issue 15), networks of our own construction with planted truth:
a winner-take-all ReLU map without leak (N = 250, 4 groups exciting themselves 0.7 and
inhibiting the others 0.36, coupling SD 0.05/sqrt(N), bias 1) and a 12-unit GRU with gains x4
(saturating gates). Truth of the stable points: the distinct end states of 512 runs of 1000
steps from N(0, 1) (WTA), or scipy's root finder from 400 starts in the box |h| <= 1 with
spectral radius < 1 (GRU). Seeds for both methods: 1024 states of 64 trajectories of 100
steps. Baseline: FixedPointFinder's joint Adam on the batch mean of q (its learning-rate
schedule, 5000 iterations at most, points with q < 1e-12 kept, de-duplicated at 1e-3) through
the model's own step and Jacobian. Reported: recall of the stable points by each, time of each,
their ratio.

Third part (issue 15 item 5): the same kind of saturating 12-unit GRU as an Equinox
``GRUCell`` (float64 weights; a plain JAX function of the same cell without Equinox), 256
starts sampled from 64 trajectories of 100 steps. Baseline: a per-start Newton loop on
``jax.jit``-compiled ``G`` and ``J_G`` at one point (the loop a user writes first; same stopping
rule), compiled before timing, best of ``--repeats`` like attractorkit's times. attractorkit's JAX
path: ``JaxModel(lambda h, x: cell(x, h))``
(``jit(vmap)`` steps and Jacobians, the Newton / LM solver compiled in JAX, all starts at once):
``newton_solve`` alone and the whole ``find_fixed_points`` (with ``state_bounds=(-1, 1)``, the
range of a GRU's fixed points, which the lowered cell declares by itself), warm (best of
``--repeats``) and cold (first call of a new model, XLA compilation included); and the cell
lowered to the numba GRU kernel by ``adapters.wrap``. Truth: scipy's root finder from 400
starts in the box.

Run: ``python benchmarks/bench_fixed_points.py [--iters 5000] [--repeats 3]
[--only relu|planted|jax]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import attractorkit as ak
from attractorkit.adapters import VanillaRNN


def grouped_relu(n=250, n_groups=5, seed=0):
    rng = np.random.default_rng(seed)
    g = np.arange(n) % n_groups
    m = n / n_groups
    W = np.where(g[:, None] == g[None, :], 0.5 / m, -1.0 / m)
    W = W + rng.normal(0, 0.05 / np.sqrt(n), (n, n))
    U = rng.normal(0, 0.1, (n, 1))
    model = VanillaRNN(W, U=U, b=np.ones(n), activation="relu", alpha=0.5)
    return model, W, U, np.ones(n)


def seeds_from_trajectories(model, x, n_traj=128, n_steps=100, n_seeds=1024, seed=1):
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(n_traj, model.n_state))
    X = np.broadcast_to(x, (n_traj, 1))
    states = [h]
    for _ in range(n_steps):
        h = model.step(h, X)
        states.append(h)
    pool = np.concatenate(states)
    return pool[rng.choice(len(pool), n_seeds, replace=False)]


def fpf_torch(W, U, b, x, seeds, *, max_iters=5000, tol_q=1e-12, tol_dq=1e-20):
    """FixedPointFinder's joint Adam optimisation of q, in PyTorch."""
    import torch

    torch.set_num_threads(2)
    Wt, ct = torch.tensor(W), torch.tensor(U @ x + b)
    h = torch.tensor(seeds, requires_grad=True)
    opt = torch.optim.Adam([h], lr=1.0, eps=0.01)
    lr, best, n_bad, n_good, prev = 1.0, np.inf, 0, 0, None
    q_prev = None
    it = 0
    for it in range(max_iters):  # noqa: B007 - the count is reported
        opt.zero_grad()
        F = 0.5 * h + 0.5 * torch.relu(h @ Wt.T + ct)
        q = 0.5 * ((F - h) ** 2).sum(1)
        loss = q.mean()
        loss.backward()
        qn = q.detach().numpy()
        if q_prev is not None:
            dq = np.abs(qn - q_prev)
            if np.all((qn < tol_q) | (dq < tol_dq * lr)):
                break
        q_prev = qn
        L = float(loss.detach())
        # FPF AdaptiveLearningRate: decrease on a plateau, increase after steady improvement
        if L < best:
            best, n_bad = L, 0
        else:
            n_bad += 1
        n_good = n_good + 1 if prev is not None and L < prev else 0
        prev = L
        if n_bad >= 5:
            lr, n_bad = max(lr * 0.95, 1e-3), 0
        elif n_good >= 5:
            lr, n_good = lr / 0.95, 0
        for grp in opt.param_groups:
            grp["lr"] = lr
        opt.step()
    with torch.no_grad():
        H = h.detach().numpy().copy()
        F = 0.5 * H + 0.5 * np.maximum(H @ W.T + U @ x + b, 0.0)
        q = 0.5 * ((F - H) ** 2).sum(1)
    return H, q, it + 1


def unique_rows(P, tol):
    keep = []
    for p in P:
        if all(np.max(np.abs(p - k)) > tol for k in keep):
            keep.append(p)
    return np.array(keep).reshape(-1, P.shape[1])


def fpf_linearise(W, U, b, x, points):
    """FixedPointFinder's default last steps (do_compute_jacobians, do_decompose_jacobians):
    the Jacobian of F at each unique point by autograd, then ``np.linalg.eig`` of each."""
    import torch

    Wt, ct = torch.tensor(W), torch.tensor(U @ x + b)

    def F(h):
        return 0.5 * h + 0.5 * torch.relu(Wt @ h + ct)

    J = torch.func.vmap(torch.func.jacrev(F))(torch.tensor(points)).numpy()
    return np.linalg.eig(J)


def timed(f, repeats):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--save", default=None, help="write both point sets to this .npz")
    ap.add_argument("--only", choices=("relu", "planted", "jax"), default=None,
                    help="run one part only")
    args = ap.parse_args()
    if args.only == "planted":
        return planted(args)
    if args.only == "jax":
        return jax_gru(args)
    model, W, U, b = grouped_relu()
    x = np.array([0.2])
    seeds = seeds_from_trajectories(model, x)
    warnings.simplefilter("ignore", ak.ConvergenceWarning)
    ak.find_fixed_points(model, x, initial_states=seeds[:8], n_init=8)   # JIT warm-up
    kw = dict(initial_states=seeds, n_init=1024, rng=0)
    t_pts, bare = timed(lambda: ak.find_fixed_points(model, x, stability=False, **kw),
                        args.repeats)
    t_ak, fp = timed(lambda: ak.find_fixed_points(model, x, **kw), args.repeats)
    t0 = time.perf_counter()
    H, q, iters = fpf_torch(W, U, b, x, seeds, max_iters=args.iters)
    base = unique_rows(H[q < 1e-12], 1e-3)
    t_fpf = time.perf_counter() - t0
    t_lin, _ = timed(lambda: fpf_linearise(W, U, b, x, base), 1)
    ours = fp.points[fp.converged & (fp.q < 1e-12)]
    assert np.array_equal(bare.points, fp.points)
    D = np.max(np.abs(base[:, None] - ours[None]), axis=2) if len(base) and len(ours) else None
    gap = float(D.min(1).max()) if D is not None else (0.0 if len(base) == 0 else np.inf)
    covered = gap < 1e-3   # FPF's own resolution (tol_unique)
    print(f"network: N=250 grouped ReLU (5 groups), 1024 seeds, 1 input; load {_load()}")
    print(f"FPF-method (torch Adam): {t_fpf:8.2f} s to q < 1e-12 and unique ({iters} "
          f"iterations, {int(np.sum(q < 1e-12))}/1024 seeds reached q < 1e-12, {len(base)} "
          f"unique); + {t_lin:.2f} s for Jacobians and eig (FPF's defaults)")
    print(f"attractorkit           : {t_pts:8.3f} s to q < 1e-12 and unique "
          f"(stability=False); {t_ak:.3f} s with linear stability (default); {len(ours)} "
          f"unique with q < 1e-12 ({int(fp.stable.sum())} stable, {int(fp.exact.sum())} exact)")
    print(f"speed-up, time to q < 1e-12 (points): {t_fpf / t_pts:.1f}x   with linearisation "
          f"(FPF defaults vs ours): {(t_fpf + t_lin) / t_ak:.1f}x")
    print(f"every baseline point found: {covered} (largest distance from a baseline point to "
          f"ours: {gap:.1e}, max-norm)")
    if args.save:
        np.savez(args.save, base=base, ours=ours, H=H, q=q)
    if args.only is None:
        planted(args)
        jax_gru(args)


def fpf_numpy(model, x, seeds, *, max_iters=5000, tol_q=1e-12, tol_dq=1e-20):
    """FixedPointFinder's joint Adam (eps 0.01, its adaptive learning rate from 1.0) on the
    batch mean of q, for any model (gradient J_G^T G from the model's Jacobian)."""
    h = seeds.copy()
    B = h.shape[0]
    X = np.broadcast_to(x, (B, x.size))
    m1, m2 = np.zeros_like(h), np.zeros_like(h)
    lr, best, n_bad, n_good, prev, q_prev = 1.0, np.inf, 0, 0, None, None
    it = 0
    for it in range(1, max_iters + 1):
        G = model.step(h, X) - h
        q = 0.5 * (G * G).sum(1)
        if q_prev is not None and np.all((q < tol_q) | (np.abs(q - q_prev) < tol_dq * lr)):
            break
        q_prev = q
        J = model.jacobian(h, X)
        g = (np.einsum("bji,bj->bi", J, G) - G) / B
        L = float(q.mean())
        if L < best:
            best, n_bad = L, 0
        else:
            n_bad += 1
        n_good = n_good + 1 if prev is not None and L < prev else 0
        prev = L
        if n_bad >= 5:
            lr, n_bad = max(lr * 0.95, 1e-3), 0
        elif n_good >= 5:
            lr, n_good = lr / 0.95, 0
        m1 = 0.9 * m1 + 0.1 * g
        m2 = 0.999 * m2 + 0.001 * g * g
        h = h - lr * (m1 / (1 - 0.9**it)) / (np.sqrt(m2 / (1 - 0.999**it)) + 0.01)
    G = model.step(h, X) - h
    return h, 0.5 * (G * G).sum(1), it


def _recall(truth, pts, tol=1e-6):
    if len(truth) == 0:
        return 1.0
    if len(pts) == 0:
        return 0.0
    D = np.max(np.abs(truth[:, None] - pts[None]), axis=2)
    return float(np.mean(D.min(1) < tol))


def planted(args):
    import scipy.optimize

    from attractorkit.adapters import GRU

    rng = np.random.default_rng(0)
    n, G = 250, 4
    g = np.arange(n) % G
    W = np.where(g[:, None] == g[None, :], 0.7 / (n / G), -0.36 / (n / G))
    W = W + rng.normal(0, 0.05 / np.sqrt(n), (n, n))
    wta = VanillaRNN(W, b=np.ones(n), activation="relu")
    ends = ak.simulate(wta, rng.normal(size=(512, n)), None, 1000).states[0, :, -1]
    truth_wta = unique_rows(ends, 1e-6)
    r = np.random.default_rng(2)
    s = 4.0 / np.sqrt(12)
    gru = GRU(r.normal(0, s, (36, 1)), r.normal(0, s, (36, 12)), r.normal(0, 0.5, 36),
              r.normal(0, 0.5, 36))
    x1 = np.zeros((1, 1))
    roots = []
    for h0 in np.random.default_rng(100).uniform(-1, 1, (400, 12)):
        sol = scipy.optimize.root(lambda h: gru.step(h[None], x1)[0] - h, h0,
                                  jac=lambda h: gru.jacobian(h[None], x1)[0] - np.eye(12),
                                  tol=1e-13)
        if sol.success and np.all(np.abs(sol.x) <= 1):
            roots.append(sol.x)
    roots = unique_rows(np.array(roots).reshape(-1, 12), 1e-7)
    rho = np.array([np.max(np.abs(np.linalg.eigvals(gru.jacobian(h[None], x1)[0])))
                    for h in roots]).reshape(-1)
    truth_gru = roots[rho < 1]
    for name, model, x, truth in (("winner-take-all ReLU, N=250, 4 groups", wta, None,
                                   truth_wta),
                                  ("saturating GRU, N=12, gains x4", gru, np.zeros(1),
                                   truth_gru)):
        xs = np.zeros(0) if x is None else x
        tr = ak.simulate(model, np.random.default_rng(1).normal(size=(64, model.n_state)), x,
                         100).states[0]
        seeds = tr.reshape(-1, model.n_state)[np.random.default_rng(1).choice(6400, 1024,
                                                                              replace=False)]
        kw = dict(initial_states=seeds, n_init=1024, rng=0)
        t_ak, fp = timed(lambda m=model, xx=x, k=kw: ak.find_fixed_points(m, xx, **k),
                         args.repeats)
        t0 = time.perf_counter()
        H, q, iters = fpf_numpy(model, xs, seeds, max_iters=args.iters)
        base = unique_rows(H[q < 1e-12], 1e-3)
        t_fpf = time.perf_counter() - t0
        st_base = []
        for h in base:
            J = model.jacobian(h[None], np.broadcast_to(xs, (1, xs.size)))[0]
            if np.max(np.abs(np.linalg.eigvals(J))) < 1:
                st_base.append(h)
        st_base = np.array(st_base).reshape(-1, model.n_state)
        ours = fp.points[fp.converged & fp.stable]
        print(f"{name}: {len(truth)} stable points (truth)")
        print(f"  attractorkit : {t_ak:8.3f} s, stable recall {_recall(truth, ours):.2f} "
              f"({len(ours)} stable, {int(fp.confirmed[fp.stable].sum())} confirmed by "
              f"settling, {fp.n_outside} outside the region)")
        print(f"  FPF-style Adam: {t_fpf:8.2f} s ({iters} iterations), stable recall "
              f"{_recall(truth, st_base, 1e-3):.2f} ({len(st_base)} stable of {len(base)})")
        print(f"  ratio: {t_fpf / t_ak:.1f}x")


def _equinox_gru(n=12, gain=4.0, seed=2):
    """A 12-unit GRU with gains x4 as an Equinox GRUCell (cell(x, h)), float64 weights; a
    plain JAX function of the same cell when Equinox is not installed."""
    import jax
    import jax.numpy as jnp

    r = np.random.default_rng(seed)
    s = gain / np.sqrt(n)
    Wih, Whh = r.normal(0, s, (3 * n, 1)), r.normal(0, s, (3 * n, n))
    b, bn = r.normal(0, 0.5, 3 * n), r.normal(0, 0.5, n)
    try:
        import equinox as eqx
    except ImportError:
        def cell(x, h):      # Equinox's GRUCell, written out
            gi, gh = Wih @ x + b, Whh @ h
            rr = jax.nn.sigmoid(gi[:n] + gh[:n])
            z = jax.nn.sigmoid(gi[n:2 * n] + gh[n:2 * n])
            new = jnp.tanh(gi[2 * n:] + rr * (gh[2 * n:] + bn))
            return new + z * (h - new)
        return cell, "plain JAX function (equinox not installed)"
    with jax.enable_x64(True):
        cell = eqx.nn.GRUCell(1, n, dtype=jnp.float64, key=jax.random.PRNGKey(0))
        cell = eqx.tree_at(lambda c: (c.weight_ih, c.weight_hh, c.bias, c.bias_n), cell,
                           tuple(jnp.asarray(a) for a in (Wih, Whh, b, bn)))
    return cell, f"equinox {eqx.__version__} GRUCell"


def per_start_newton(cell, seeds, *, tol=1e-10, max_iter=100, max_norm=1e6):
    """The baseline: a plain Newton loop per start on jax.jit-compiled G and its Jacobian at
    one point (what a user writes first), stopping rule as attractorkit's."""
    import jax
    import jax.numpy as jnp

    n = seeds.shape[1]
    x = jnp.zeros(1)
    with jax.enable_x64(True):
        GJ = jax.jit(lambda h: (cell(x, h) - h, jax.jacfwd(lambda v: cell(x, v))(h)
                                - jnp.eye(n)))
        out, conv = [], []
        for h0 in seeds:
            h, ok = jnp.asarray(h0), False
            for _ in range(max_iter):
                G, J = GJ(h)
                Gn, hn = np.asarray(G), np.asarray(h)
                if np.max(np.abs(Gn)) <= tol * max(1.0, np.max(np.abs(hn))):
                    ok = True
                    break
                h = h - jnp.linalg.solve(J, G)
                if not np.all(np.isfinite(np.asarray(h))) or np.max(np.abs(h)) > max_norm:
                    break
            out.append(np.asarray(h))
            conv.append(ok)
    return np.array(out), np.array(conv)


def jax_gru(args):
    """Issue 15 item 5: a saturating 12-unit Equinox GRU from 256 starts, through the JAX path
    (JaxModel of the cell's call: jit(vmap) steps and Jacobians, the Newton solver compiled in
    JAX) and lowered to the numba GRU kernel (adapters.wrap of the cell), against the per-start
    jax.jit Newton loop."""
    import scipy.optimize

    from attractorkit import adapters
    from attractorkit.fixed_points import newton_solve

    warnings.simplefilter("ignore", ak.ConvergenceWarning)
    cell, kind = _equinox_gru()
    jm = adapters.JaxModel(lambda h, x: cell(x, h), n_state=12, n_input=1)
    lowered = adapters.wrap(cell) if "equinox" in kind and "not" not in kind else None
    ref = lowered if lowered is not None else jm
    x = np.zeros(1)
    tr = ak.simulate(ref, np.random.default_rng(1).normal(size=(64, 12)), x, 100).states[0]
    seeds = tr.reshape(-1, 12)[np.random.default_rng(1).choice(6400, 256, replace=False)]
    roots = []
    x1 = np.zeros((1, 1))
    for h0 in np.random.default_rng(100).uniform(-1, 1, (400, 12)):
        sol = scipy.optimize.root(lambda h: ref.step(h[None], x1)[0] - h, h0,
                                  jac=lambda h: ref.jacobian(h[None], x1)[0] - np.eye(12),
                                  tol=1e-13)
        if sol.success and np.all(np.abs(sol.x) <= 1):
            roots.append(sol.x)
    truth = unique_rows(np.array(roots).reshape(-1, 12), 1e-7)
    rho = np.array([np.max(np.abs(np.linalg.eigvals(ref.jacobian(h[None], x1)[0])))
                    for h in truth]).reshape(-1)
    per_start_newton(cell, seeds[:2])                                  # compile the baseline
    t_base, (P, ok) = timed(lambda: per_start_newton(cell, seeds), args.repeats)
    X = np.zeros((256, 1))
    t0 = time.perf_counter()
    newton_solve(jm, seeds, X)
    t_solve_cold = time.perf_counter() - t0
    t_solve, sol = timed(lambda: newton_solve(jm, seeds, X), args.repeats)
    kw = dict(initial_states=seeds, n_init=256, rng=0)
    jm2 = adapters.JaxModel(lambda h, x: cell(x, h), n_state=12, n_input=1,
                            state_bounds=(-1, 1))     # where a GRU's fixed points live
    t0 = time.perf_counter()
    ak.find_fixed_points(jm2, x, **kw)
    t_fp_cold = time.perf_counter() - t0
    t_fp, fp = timed(lambda: ak.find_fixed_points(jm2, x, **kw), args.repeats)
    print(f"saturating GRU, N=12, gains x4, {kind}, 256 starts; load {_load()}: "
          f"{len(truth)} fixed points with |h| <= 1 ({int(np.sum(rho < 1))} stable; scipy)")
    print(f"  per-start jax.jit Newton loop : {t_base:7.3f} s ({int(ok.sum())} converged, "
          f"truth recall {_recall(truth, P[ok]):.2f})")
    print(f"  newton_solve, JAX path        : {t_solve:7.3f} s warm, {t_solve_cold:.2f} s with "
          f"compilation ({int(sol.converged.sum())} converged, truth recall "
          f"{_recall(truth, sol.points[sol.converged]):.2f}); ratio {t_base / t_solve:.1f}x "
          f"warm, {t_base / t_solve_cold:.2f}x cold")
    stable = fp.points[fp.converged & fp.stable]
    print(f"  find_fixed_points, JAX path   : {t_fp:7.3f} s warm, {t_fp_cold:.2f} s with "
          f"compilation; {len(fp)} rows, recall {_recall(truth, fp.points[fp.converged]):.2f}"
          f" (stable {_recall(truth[rho < 1], stable):.2f}), {fp.n_outside} outside the "
          f"region; ratio {t_base / t_fp:.1f}x warm, {t_base / t_fp_cold:.2f}x cold")
    if lowered is not None:
        ak.find_fixed_points(lowered, x, initial_states=seeds[:8], n_init=8)
        t_low, fl = timed(lambda: ak.find_fixed_points(lowered, x, **kw), args.repeats)
        print(f"  find_fixed_points, lowered    : {t_low:7.3f} s (numba GRU kernel via "
              f"adapters.wrap); {len(fl)} rows, recall "
              f"{_recall(truth, fl.points[fl.converged]):.2f}; ratio {t_base / t_low:.1f}x")


def _load():
    try:
        import os

        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "n/a"


if __name__ == "__main__":
    main()
