"""The planted benchmark of the attractor classifier: systems whose attractors are known
independently of attractorkit.

Every system is drawn from a family (maps and flows embedded in 10 to 250 dimensions by random
orthogonal embeddings, and recurrent networks) with a seed; the answer is known by
construction (a rigid rotation by p/q has period q; uncoupled oscillators with an irrational
frequency ratio fill a torus; a locked generalised circle map has an attracting q-cycle) or
established by a plain numpy computation that shares no code with attractorkit (a long
simulation of the one-dimensional core or of the network, lifted angles for rotation numbers,
recurrence over tens of thousands of steps, the largest exponent by renormalised tangent
vectors).

The seeds split the benchmark into two halves: ``systems("tuning")`` (the rules' thresholds
were chosen looking at these only) and ``systems("heldout")`` (never looked at while tuning).
"""

from __future__ import annotations

import dataclasses
import math
import zlib

import numpy as np
from planted_models import (
    AffineCore,
    Embedded,
    HenonCore,
    HopfCore,
    LogisticCore,
    PolarCore,
    circle_angles,
    lorenz_core,
    rossler_core,
    torus_angles,
)

from attractorkit.adapters import VanillaRNN

HALF_SEEDS = {"tuning": 20_261_000, "heldout": 20_262_000}
N_INIT = 2


@dataclasses.dataclass(frozen=True)
class Planted:
    """One benchmark system and its answer (per initial state)."""

    name: str
    family: str
    model: object
    initial_states: np.ndarray
    truth: tuple            # label per initial state
    period: tuple = ()      # periods (steps or time) of periodic truths, per initial state
    torus_dim: tuple = ()   # torus dimensions of quasi-periodic truths
    how: str = ""           # how the answer was established
    options: dict = dataclasses.field(default_factory=dict)  # classify_attractors options

    @property
    def n_state(self):
        return self.model.n_state


def _dim(rng, lo=10, hi=250):
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def _same(label, n=N_INIT, value=None):
    return (label,) * n, ((value,) * n if value is not None else ())


def _irrational(rng, lo, hi, q_max=50, tol=2e-3):
    while True:
        x = rng.uniform(lo, hi)
        if all(abs(x - round(x * q) / q) > tol for q in range(1, q_max + 1)):
            return x


# -- independent answers -------------------------------------------------------------------------
def circle_rotation(omega, K, n=200_000, theta=0.123):
    """Rotation number of theta' = theta + omega - K/(2 pi) sin(2 pi theta), lifted angle."""
    for _ in range(5000):
        theta = theta + omega - K / (2 * np.pi) * np.sin(2 * np.pi * theta)
    start = theta
    for _ in range(n):
        theta = theta + omega - K / (2 * np.pi) * np.sin(2 * np.pi * theta)
    return (theta - start) / n


def recurrence(X, p_max, tol):
    """Smallest p <= p_max with max |X[t+p] - X[t]| <= tol over the last 2 p_max steps."""
    W = X[-3 * p_max:]
    for p in range(1, p_max + 1):
        if np.max(np.abs(W[p:] - W[:-p])) <= tol * (1 + np.abs(W).max()):
            return p
    return 0


def logistic_truth(r, x=0.3, n=200_000):
    """('periodic', p) or ('chaotic', lambda) of x' = r x (1 - x), by a long 1-D run."""
    for _ in range(20_000):
        x = r * x * (1 - x)
    xs = np.empty(n)
    for t in range(n):
        x = r * x * (1 - x)
        xs[t] = x
    p = recurrence(xs[:, None], 64, 1e-12)
    lam = float(np.mean(np.log(np.abs(r * (1 - 2 * xs)) + 1e-300)))
    return ("periodic", p) if p else ("chaotic", lam)


def rnn_largest_exponent(W, h, n_transient=3000, n=20_000, seed=0):
    """Largest exponent of h' = tanh(W h) by one renormalised tangent vector (numpy)."""
    for _ in range(n_transient):
        h = np.tanh(W @ h)
    v = np.random.default_rng(seed).standard_normal(h.size)
    v /= np.linalg.norm(v)
    acc = 0.0
    for _ in range(n):
        h = np.tanh(W @ h)
        v = (1 - h * h) * (W @ v)
        s = np.linalg.norm(v)
        acc += math.log(s)
        v /= s
    return acc / n


def rnn_orbit(W, h, n_transient, n):
    for _ in range(n_transient):
        h = np.tanh(W @ h)
    X = np.empty((n, h.size))
    for t in range(n):
        h = np.tanh(W @ h)
        X[t] = h
    return X


# -- families: maps ------------------------------------------------------------------------------
def fixed_map(rng):
    n, k = _dim(rng), 3
    B = rng.standard_normal((k, k))
    B *= rng.uniform(0.5, 0.9) / np.linalg.norm(B, 2)
    m = Embedded(AffineCore(B, rng.uniform(-1, 1, k)), n, rng)
    h0 = m.embed(rng.uniform(-1, 1, (N_INIT, k)), rng)
    truth, _ = _same("fixed_point")
    return Planted(f"tanh contraction n={n}", "map fixed point", m, h0, truth,
                   how="contraction (|B| < 1): one attracting fixed point")


def focus_map(rng):
    n, r, w = _dim(rng), rng.uniform(0.995, 0.999), rng.uniform(0.3, 2.8)
    B = r * np.array([[np.cos(w), -np.sin(w)], [np.sin(w), np.cos(w)]])
    m = Embedded(AffineCore(B, tanh=False, center=rng.uniform(-1, 1, 2)), n, rng)
    h0 = m.embed(rng.uniform(-1.5, 1.5, (N_INIT, 2)), rng)
    truth, _ = _same("fixed_point")
    return Planted(f"slow focus r={r:.4f} n={n}", "map fixed point", m, h0, truth,
                   how="linear focus, spectral radius < 1")


def rotation_cycle(rng, q_lo, q_hi):
    q = int(round(math.exp(rng.uniform(math.log(q_lo), math.log(q_hi)))))
    p = int(rng.integers(1, q))
    while math.gcd(p, q) != 1:
        p = int(rng.integers(1, q))
    n = _dim(rng)
    core = PolarCore(circle_angles(p / q), 1, c=rng.uniform(0.3, 0.8))
    m = Embedded(core, n, rng, contraction=rng.uniform(0.3, 0.9))
    h0 = m.embed(core.point(rng.uniform(0, 1, (N_INIT, 1)), r=rng.uniform(0.6, 1.4)), rng)
    truth, period = _same("periodic", value=float(q))
    return Planted(f"rigid rotation {p}/{q} n={n}", "map cycle (rotation)", m, h0, truth,
                   period, how="rigid rotation by p/q on an attracting circle: period q")


def locked_cycle(rng, q_lo=2, q_hi=300, k_lo=0.05, k_hi=1.0):
    q = int(round(math.exp(rng.uniform(math.log(q_lo), math.log(q_hi)))))
    p = int(rng.integers(1, q)) if q > 1 else 0
    while q > 1 and math.gcd(p, q) != 1:
        p = int(rng.integers(1, q))
    K = math.exp(rng.uniform(math.log(k_lo), math.log(k_hi)))
    n = _dim(rng)
    core = PolarCore(circle_angles(p / q, K, m=q), 1, c=rng.uniform(0.3, 0.8))
    m = Embedded(core, n, rng)
    h0 = m.embed(core.point(rng.uniform(0, 1, (N_INIT, 1))), rng)
    truth, period = _same("periodic", value=float(q))
    return Planted(f"locked circle map {p}/{q} K={K:.3f} n={n}", "map cycle (locked)", m, h0,
                   truth, period, how="q theta is a contracting phase (multiplier 1 - K): "
                   "attracting q-cycle")


def logistic_window(rng):
    r = float(rng.choice([3.2, 3.5, 3.55, 3.63, 3.74, 3.83, 3.845]) + rng.uniform(-1e-3, 1e-3))
    label, p = logistic_truth(r)
    assert label == "periodic", (r, label, p)
    n = _dim(rng)
    m = Embedded(LogisticCore(r), n, rng)
    h0 = m.embed(rng.uniform(-0.4, 0.4, (N_INIT, 1)), rng, spread=0.1)
    truth, period = _same("periodic", value=float(p))
    return Planted(f"logistic r={r:.4f} n={n}", "map cycle (logistic)", m, h0, truth, period,
                   how=f"1-D run of 2e5 steps: exact period {p}")


def synfire_ring(rng):
    """h' = tanh(W h): a ring of q units passing activity on with gain g (a signed cyclic
    permutation), the other units weakly driven by the ring and contracting."""
    n = _dim(rng, 20, 250)
    q = int(rng.integers(8, min(n, 200) + 1))
    g = rng.uniform(1.5, 3.0)
    order = rng.permutation(n)
    ring, rest = order[:q], order[q:]
    W = np.zeros((n, n))
    signs = rng.choice([-1.0, 1.0], q)
    W[ring[(np.arange(q) + 1) % q], ring] = g * signs
    if rest.size:
        W[np.ix_(rest, ring)] = 0.3 * rng.standard_normal((rest.size, q)) / np.sqrt(q)
        A = rng.standard_normal((rest.size, rest.size))
        W[np.ix_(rest, rest)] = 0.5 * A / max(np.abs(np.linalg.eigvals(A)).max(), 1e-12)
    h0 = rng.uniform(-1, 1, (N_INIT, n))
    periods = []
    for h in h0:
        X = rnn_orbit(W, h, 20_000, 3 * 2 * q + 10)
        periods.append(recurrence(X, 2 * q, 1e-10))
    assert all(periods), periods
    return Planted(f"synfire ring q={q} g={g:.2f} n={n}", "RNN long cycle",
                   VanillaRNN(W, activation="tanh"), h0, ("periodic",) * N_INIT,
                   tuple(float(p) for p in periods),
                   how="numpy run of 2e4 steps: exact recurrence (period q or 2q)")


def circle_torus(rng):
    n, K = _dim(rng), rng.uniform(0.0, 0.9)
    while True:
        om = rng.uniform(0.05, 0.95)
        rho = circle_rotation(om, K)
        if all(abs(rho - round(rho * q) / q) > 2e-3 for q in range(1, 51)):
            break
    core = PolarCore(circle_angles(om, K), 1, c=rng.uniform(0.3, 0.8))
    m = Embedded(core, n, rng, contraction=rng.uniform(0.3, 0.9))
    h0 = m.embed(core.point(rng.uniform(0, 1, (N_INIT, 1))), rng)
    truth, dims = _same("quasi_periodic", value=1)
    return Planted(f"circle map K={K:.2f} rho={rho:.5f} n={n}", "map torus T1", m, h0, truth,
                   torus_dim=dims, how="rotation number from 2e5 lifted steps, > 2e-3 from "
                   "every p/q with q <= 50")


def near_rational_torus(rng):
    q = int(rng.integers(2, 11))
    p = int(rng.integers(1, q))
    while math.gcd(p, q) != 1:
        p = int(rng.integers(1, q))
    delta = float(rng.choice([-1, 1]) * math.exp(rng.uniform(math.log(1e-4), math.log(1e-3))))
    n = _dim(rng)
    core = PolarCore(circle_angles(p / q + delta), 1, c=rng.uniform(0.3, 0.8))
    m = Embedded(core, n, rng)
    h0 = m.embed(core.point(rng.uniform(0, 1, (N_INIT, 1))), rng)
    truth, dims = _same("quasi_periodic", value=1)
    return Planted(f"rotation {p}/{q}{delta:+.1e} n={n}", "map torus T1 (near-rational)", m, h0,
                   truth, torus_dim=dims, how="rigid rotation by an irrational number")


def map_torus(rng, d):
    n = _dim(rng, 10 + 3 * d, 250)
    while True:
        om = rng.uniform(0.05, 0.95, d)
        ok = all(abs(np.dot(kv, om) - round(np.dot(kv, om))) > 2e-3
                 for kv in _small_vectors(d, 6 if d < 3 else 4) if np.any(kv))
        if ok:
            break
    core = PolarCore(torus_angles(om, eps=rng.uniform(0, 0.05)), d,
                     radii=np.linspace(1.0, 0.6, d), c=rng.uniform(0.3, 0.7))
    m = Embedded(core, n, rng)
    h0 = m.embed(core.point(rng.uniform(0, 1, (N_INIT, d))), rng)
    truth, dims = _same("quasi_periodic", value=d)
    return Planted(f"T{d} map omega={np.round(om, 4).tolist()} n={n}", f"map torus T{d}", m, h0,
                   truth, torus_dim=dims, how="skew rotation with rationally independent "
                   "frequencies (no |k_i| <= 6 (4 for T3) resonance within 2e-3)")


def _small_vectors(d, k_max=6):
    grids = np.meshgrid(*[np.arange(-k_max, k_max + 1)] * d, indexing="ij")
    return np.stack([g.ravel() for g in grids], 1)


def ns_rnn(rng, near=False):
    """tanh RNN with a complex pair r e^{+-2 pi i rho0} (r > 1) planted in W: a supercritical
    Neimark-Sacker invariant circle (``near``: rho0 within 1e-3 to 1e-2 of p/q, q = 5 to 12,
    where it may lock onto a long cycle)."""
    n = _dim(rng, 10, 120)
    r, rho0 = rng.uniform(1.02, 1.1), _irrational(rng, 0.05, 0.45, q_max=12, tol=0.01)
    if near:
        q = int(rng.integers(5, 13))
        p = int(rng.integers(1, q // 2 + 1))
        while math.gcd(p, q) != 1:
            p = int(rng.integers(1, q // 2 + 1))
        rho0 = p / q + float(rng.choice([-1, 1]) * math.exp(rng.uniform(math.log(1e-3),
                                                                        math.log(1e-2))))
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    A = rng.standard_normal((n - 2, n - 2))
    A *= rng.uniform(0.4, 0.8) / max(np.abs(np.linalg.eigvals(A)).max(), 1e-12)
    w = 2 * np.pi * rho0
    B = np.zeros((n, n))
    B[:2, :2] = r * np.array([[np.cos(w), -np.sin(w)], [np.sin(w), np.cos(w)]])
    B[2:, 2:] = A
    W = Q @ B @ Q.T
    h0 = 0.3 * rng.standard_normal((N_INIT, n))
    X = rnn_orbit(W, h0[0], 20_000, 40_000)
    p = recurrence(X, 2000, 1e-10)
    if p:
        truth = ("periodic",) * N_INIT
        return Planted(f"NS rnn r={r:.3f} rho0={rho0:.4f} n={n} (locked)", "RNN NS torus",
                       VanillaRNN(W), h0, truth, (float(p),) * N_INIT,
                       how=f"numpy run of 6e4 steps: locked, exact period {p}")
    z = X @ Q[:, :2]
    ang = np.unwrap(np.arctan2(z[:, 1], z[:, 0]))
    rho = abs(ang[-1] - ang[0]) / (2 * np.pi * (len(ang) - 1))
    assert np.hypot(z[:, 0], z[:, 1]).min() > 1e-3
    truth, dims = _same("quasi_periodic", value=1)
    return Planted(f"NS rnn r={r:.3f} rho={rho:.5f} n={n}", "RNN NS torus", VanillaRNN(W), h0,
                   truth, torus_dim=dims, how="numpy run of 6e4 steps: no recurrence with "
                   f"period <= 2000, rotation {rho:.5f} in the planted plane")


def logistic_chaos(rng):
    while True:
        r = rng.uniform(3.6, 4.0)
        label, lam = logistic_truth(r)
        if label == "chaotic" and lam > 0.01:
            break
    n = _dim(rng)
    m = Embedded(LogisticCore(r), n, rng)
    h0 = m.embed(rng.uniform(-0.3, 0.3, (N_INIT, 1)), rng, spread=0.1)
    truth, _ = _same("chaotic")
    return Planted(f"logistic r={r:.4f} lambda={lam:.3f} n={n}", "map chaos", m, h0, truth,
                   how=f"1-D run of 2e5 steps: no period <= 64, lambda = {lam:.4f}")


def henon_chaos(rng):
    n = _dim(rng)
    m = Embedded(HenonCore(), n, rng)
    h0 = m.embed(np.c_[rng.uniform(-0.2, 0.2, N_INIT), rng.uniform(-0.1, 0.1, N_INIT)], rng,
                 spread=0.1)
    truth, _ = _same("chaotic")
    return Planted(f"Henon n={n}", "map chaos", m, h0, truth, how="lambda1 = 0.419")


def rnn_chaos(rng, g_lo, g_hi):
    n = _dim(rng, 40, 200)
    while True:
        g = rng.uniform(g_lo, g_hi)
        W = g * rng.standard_normal((n, n)) / np.sqrt(n)
        h0 = rng.standard_normal((N_INIT, n))
        lam = rnn_largest_exponent(W, h0[0].copy())
        if 0.01 <= lam <= 1.0:
            X = rnn_orbit(W, h0[0], 0, 4000)
            if not recurrence(X, 1000, 1e-8):
                break
    truth, _ = _same("chaotic")
    return Planted(f"tanh rnn g={g:.2f} lambda={lam:.3f} n={n}", "RNN chaos", VanillaRNN(W), h0,
                   truth, how=f"numpy tangent vector over 2e4 steps: lambda1 = {lam:.4f}")


def transient_chaos(rng):
    """Logistic map just above r = 4 with the escaping orbits captured by a fixed point: a
    chaotic transient, then the fixed point x = -1/2. An orbit leaves [0, 1] through the
    interval where r x (1 - x) > 1 (width sqrt(eps)), at a rate of about (2 / pi) sqrt(eps) per
    step: 4.5e-4 to 7.8e-4 here, a mean transient of 1300 to 2200 steps (the first record
    often sees chaos) and a chance below 1e-3 to outlast the classifier's budget of 16000
    steps."""
    n = _dim(rng)
    eps = rng.uniform(5e-7, 1.5e-6)
    core = LogisticCore(4.0 * (1 + eps), capture=True)
    m = Embedded(core, n, rng)
    lengths = []
    for x0 in rng.uniform(0.05, 0.95, 200):  # the escape-time distribution of the 1-D map
        x, t = x0, 0
        while x >= 0 and t < 100_000:
            x = core.r * x * (1 - x)
            t += 1
        lengths.append(t)
    assert np.mean(lengths) < 2600, np.mean(lengths)
    h0 = m.embed(rng.uniform(-0.45, 0.45, (N_INIT, 1)), rng, spread=0.1)
    truth, _ = _same("fixed_point")
    return Planted(f"transient chaos eps={eps:.2e} (1-D escape: median {np.median(lengths):.0f}"
                   f" steps) n={n}", "map transient chaos", m, h0, truth,
                   how="escape times of 200 1-D orbits (mean < 2600 steps), then contraction "
                   "onto x = -0.5")


def divergent_map(rng):
    n, a = _dim(rng), rng.uniform(1.02, 1.3)
    B = np.diag([a, rng.uniform(-0.9, 0.9)])
    m = Embedded(AffineCore(B, tanh=False), n, rng)
    h0 = m.embed(rng.uniform(-1, 1, (N_INIT, 2)), rng)
    truth, _ = _same("divergent")
    return Planted(f"linear a={a:.3f} n={n}", "map divergent", m, h0, truth,
                   how="linear map with an eigenvalue > 1")


# -- families: flows -----------------------------------------------------------------------------
def _flow_dim(rng):
    return _dim(rng, 10, 60)


def hopf_fixed(rng):
    n = _flow_dim(rng)
    core = HopfCore([-rng.uniform(0.1, 1.0)], [rng.uniform(0.5, 2.0)], dt=0.05)
    m = Embedded(core, n, rng)
    h0 = m.embed(rng.uniform(-1, 1, (N_INIT, 2)), rng)
    truth, _ = _same("fixed_point")
    return Planted(f"Hopf mu={core.mu[0]:.2f} n={n}", "flow fixed point", m, h0, truth,
                   how="Hopf normal form, mu < 0")


def hopf_cycle(rng):
    n = _flow_dim(rng)
    om = rng.uniform(0.5, 3.0)
    core = HopfCore([rng.uniform(0.1, 1.0)], [om], dt=float(rng.choice([0.02, 0.05])))
    m = Embedded(core, n, rng)
    h0 = m.embed(rng.uniform(-1, 1, (N_INIT, 2)), rng)
    truth, period = _same("periodic", value=2 * np.pi / om)
    return Planted(f"Hopf cycle omega={om:.3f} n={n}", "flow cycle", m, h0, truth, period,
                   how="Hopf normal form, mu > 0: period 2 pi / omega")


def resonant_torus_flow(rng):
    n = _flow_dim(rng)
    p, q = [(3, 2), (4, 3), (5, 3), (5, 2), (7, 4)][int(rng.integers(5))]
    om1 = rng.uniform(0.8, 1.5)
    core = HopfCore([1.0, rng.uniform(0.1, 0.3)], [om1, om1 * p / q], dt=0.05)
    m = Embedded(core, n, rng)
    h0 = m.embed(rng.uniform(-1, 1, (N_INIT, 4)), rng)
    truth, period = _same("periodic", value=2 * np.pi * q / om1)
    return Planted(f"resonant oscillators {p}/{q} n={n}", "flow cycle (resonant torus)", m, h0,
                   truth, period, how="frequency ratio p/q: period 2 pi q / omega1")


def torus_flow(rng, d):
    n = _flow_dim(rng)
    while True:
        om = np.r_[1.0, rng.uniform(1.1, 2.6, d - 1)]
        ok = all(abs(np.dot(kv, om[1:]) - round(np.dot(kv, om[1:]))) > 5e-3
                 for kv in _small_vectors(d - 1) if np.any(kv))
        if ok:
            break
    om *= rng.uniform(0.8, 1.5)
    mus = np.r_[1.0, rng.uniform(0.15, 0.35, d - 1)]
    core = HopfCore(mus, om, dt=0.05)
    m = Embedded(core, n, rng)
    h0 = m.embed(rng.uniform(-1, 1, (N_INIT, 2 * d)), rng)
    truth, dims = _same("quasi_periodic", value=d)
    return Planted(f"T{d} flow omega={np.round(om, 4).tolist()} n={n}", f"flow torus T{d}", m,
                   h0, truth, torus_dim=dims, how="uncoupled Hopf oscillators with rationally "
                   "independent frequencies")


def lorenz_flow(rng):
    n = _flow_dim(rng)
    rho, dt = rng.uniform(26.0, 32.0), float(rng.choice([0.01, 0.02]))
    m = Embedded(lorenz_core(rho=rho, dt=dt), n, rng)
    h0 = m.embed(rng.uniform(-0.5, 0.5, (N_INIT, 3)), rng)
    truth, _ = _same("chaotic")
    return Planted(f"Lorenz rho={rho:.1f} dt={dt} n={n}", "flow chaos", m, h0, truth,
                   how="Lorenz attractor, lambda1 ~ 0.9")


def rossler_flow(rng):
    n = _flow_dim(rng)
    m = Embedded(rossler_core(c=5.7), n, rng)
    h0 = m.embed(np.c_[rng.uniform(-0.5, 0.5, (N_INIT, 2)), np.zeros(N_INIT)], rng)
    truth, _ = _same("chaotic")
    return Planted(f"Rossler n={n}", "flow chaos", m, h0, truth,
                   how="Rossler attractor (a = b = 0.2, c = 5.7): lambda1 = 0.0714")


# -- the two halves ------------------------------------------------------------------------------
FAMILIES = (
    ("fixed_map", fixed_map, 2), ("focus_map", focus_map, 2),
    ("rotation_short", lambda g: rotation_cycle(g, 2, 20), 1),
    ("rotation_mid", lambda g: rotation_cycle(g, 20, 100), 1),
    ("rotation_long", lambda g: rotation_cycle(g, 100, 500), 2),
    ("locked_cycle", locked_cycle, 3), ("logistic_window", logistic_window, 2),
    ("locked_cycle_weak", lambda g: locked_cycle(g, 20, 300, 0.002, 0.02), 2),
    ("synfire_ring", synfire_ring, 2), ("circle_torus", circle_torus, 3),
    ("near_rational_torus", near_rational_torus, 2),
    ("map_t2", lambda g: map_torus(g, 2), 2), ("map_t3", lambda g: map_torus(g, 3), 1),
    ("ns_rnn", ns_rnn, 3), ("ns_rnn_near", lambda g: ns_rnn(g, near=True), 2),
    ("logistic_chaos", logistic_chaos, 2),
    ("henon_chaos", henon_chaos, 1), ("rnn_chaos", lambda g: rnn_chaos(g, 2.0, 3.5), 1),
    ("rnn_chaos_weak", lambda g: rnn_chaos(g, 1.05, 1.6), 1),
    ("transient_chaos", transient_chaos, 2), ("divergent_map", divergent_map, 1),
    ("hopf_fixed", hopf_fixed, 1), ("hopf_cycle", hopf_cycle, 2),
    ("resonant_torus_flow", resonant_torus_flow, 1),
    ("flow_t2", lambda g: torus_flow(g, 2), 2), ("flow_t3", lambda g: torus_flow(g, 3), 1),
    ("lorenz", lorenz_flow, 1), ("rossler", rossler_flow, 1),
)


def systems(half, *, families=None, per_family=None):
    """The planted systems of one half ("tuning" or "heldout"), optionally of some families
    only (names from ``FAMILIES``) and at most ``per_family`` of each. Each (family, index)
    pair has its own seed."""
    base = HALF_SEEDS[half]
    out = []
    for name, make, count in FAMILIES:
        if families is not None and name not in families:
            continue
        for j in range(count if per_family is None else min(count, per_family)):
            out.append(make(np.random.default_rng([base, zlib.crc32(name.encode()), j])))
    return out


def score(system, attractors):
    """Rows (system name, family, truth, label, confidence, right) per initial state. A
    periodic label is right with the period to 1e-3 (relative), a quasi-periodic one with the
    torus dimension."""
    rows = []
    lab = attractors.label.ravel()
    for k, truth in enumerate(system.truth):
        ok = lab[k] == truth
        if ok and truth == "periodic":
            ok = bool(np.isclose(attractors.period.ravel()[k], system.period[k], rtol=1e-3))
        if ok and truth == "quasi_periodic":
            ok = int(attractors.torus_dim.ravel()[k]) == system.torus_dim[k]
        rows.append((system.name, system.family, truth, str(lab[k]),
                     float(attractors.confidence.ravel()[k]), bool(ok),
                     str(attractors.reason.ravel()[k])))
    return rows


LABELS = ("fixed_point", "periodic", "quasi_periodic", "chaotic", "divergent", "undetermined")


def classify(system, **options):
    """classify_attractors on the system's initial states (defaults unless the system or the
    caller says otherwise)."""
    import attractorkit as ak

    kw = dict(system.options)
    kw.update(options)
    return ak.classify_attractors(system.model, None, initial_states=system.initial_states,
                                  rng=0, **kw)


def summary(rows, *, confident=0.9):
    """Confusion counts {truth: {label: n}}, and the rates: right, undetermined, wrong, wrong
    with confidence >= ``confident``, and the share right among labels with that confidence."""
    conf = {t: dict.fromkeys(LABELS, 0) for t in LABELS[:-1]}
    for r in rows:
        conf[r[2]][r[3]] += 1
    n = len(rows)
    right = sum(r[5] for r in rows)
    und = sum(r[3] == "undetermined" for r in rows)
    wrong = n - right - und
    sure = [r for r in rows if r[3] != "undetermined" and r[4] >= confident]
    sure_wrong = sum(not r[5] for r in sure)
    levels = {}
    for r in rows:
        if r[3] != "undetermined":
            k = levels.setdefault(round(r[4], 2), [0, 0])
            k[0] += r[5]
            k[1] += 1
    return {"n": n, "right": right / n, "undetermined": und / n, "wrong": wrong / n,
            "confidently_wrong": sure_wrong / n, "n_confident": len(sure),
            "confident_right": (1 - sure_wrong / len(sure)) if sure else float("nan"),
            "confusion": conf, "reliability": dict(sorted(levels.items(), reverse=True))}


def format_summary(s, title):
    lines = [f"{title}: {s['n']} labels; right {s['right']:.1%}, undetermined "
             f"{s['undetermined']:.1%}, wrong {s['wrong']:.1%}, confidently wrong "
             f"{s['confidently_wrong']:.1%}; {s['n_confident']} labels with confidence >= 0.9, "
             f"{s['confident_right']:.1%} of them right", "",
             "| truth \\ label | " + " | ".join(LABELS) + " |",
             "|---|" + "---|" * len(LABELS)]
    for t, row in s["confusion"].items():
        if sum(row.values()):
            lines.append(f"| {t} | " + " | ".join(str(row[k]) for k in LABELS) + " |")
    lines += ["", "confidence: right / labels  " + ", ".join(
        f"{c:.2f}: {k[0]}/{k[1]}" for c, k in s["reliability"].items())]
    return "\n".join(lines)
