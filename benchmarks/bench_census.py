"""Census throughput: a 250-unit ReLU RNN over a 21 x 21 input grid x 10 initial states.

    python benchmarks/bench_census.py            # the full workload (3000 steps per run)
    python benchmarks/bench_census.py --grid 7   # a quicker look

Prints the census throughput in state updates per second (every simulated step of every run,
transient, quick tests and Lyapunov passes included; tangent-vector updates are counted
separately) against two baselines measured in the same process:

- the float64 matmul ceiling: numpy ``H @ W.T`` on the census' own chunk shape, i.e. the rate at
  which BLAS can do the one product each state update needs (target: census >= 50% of it);
- a plain PyTorch loop: ``h = relu(h @ W.T + c)`` stepped in Python, batched over the same
  chunk, and per trajectory (batch 1), float64 (target: census >= 5x faster).

Two more lines put the ceiling in context: the GEMM rows the census performs (state updates
plus tangent-vector updates, each one row of the same product) per second of the whole census,
and the census engine alone: ``ak.simulate`` of all 4410 runs for 300 steps (the batched kernel
of the transient, no early stopping, no evidence).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import attractorkit as ak
from attractorkit.adapters import VanillaRNN

N, N_INPUT, N_INIT = 250, 7, 10


def network(delta=0.14, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.uniform(-delta, delta, (N, N))
    U = rng.uniform(-delta, delta, (N, N_INPUT))
    b = rng.uniform(-0.1, 0.1, N)
    return VanillaRNN(W, U, b, activation="relu")


def grid_inputs(k):
    c = np.linspace(-1.0, 1.0, k)
    c1, c2 = np.meshgrid(c, c, indexing="ij")
    X = np.zeros((k * k, N_INPUT))
    X[:, 0] = 1.0          # fixation
    X[:, 1] = c1.ravel()   # modality-1 evidence
    X[:, 3] = c2.ravel()   # modality-2 evidence
    X[:, 5] = 1.0          # context 1
    return X, c


def best_of(f, repeat=3):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def matmul_ceiling(model, batch, reps=200):
    """Best rows/s of numpy's float64 H @ W.T, with BLAS on 1 thread and on all threads."""
    from threadpoolctl import threadpool_limits

    H = np.random.default_rng(1).random((batch, N))
    WT = np.ascontiguousarray(model.W.T)
    out = np.empty_like(H)

    def run():
        for _ in range(reps):
            np.dot(H, WT, out=out)

    with threadpool_limits(1, user_api="blas"):
        one = best_of(run)
    return batch * reps / min(one, best_of(run))


def torch_loop(model, batch, steps):
    import torch

    W = torch.tensor(model.W.T)
    c = torch.tensor(model.b + np.ones(N_INPUT) @ model.U.T)
    h0 = torch.rand(batch, N, dtype=torch.float64)

    def run():
        h = h0
        with torch.no_grad():
            for _ in range(steps):
                h = torch.relu(h @ W + c)
        return h

    best = np.inf
    for threads in (1, 2):  # the better of one and two intra-op threads
        torch.set_num_threads(threads)
        best = min(best, best_of(run))
    return batch * steps / best


def engine_rate(model, X, h0, steps=300):
    """State updates per second of ak.simulate on the census batch (all runs, no early stop)."""
    ak.simulate(model, h0, X[:2], 5, stride=5)  # JIT warm-up
    best = best_of(lambda: ak.simulate(model, h0, X, steps, stride=steps), repeat=2)
    return X.shape[0] * h0.shape[0] * steps / best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grid", type=int, default=21)
    ap.add_argument("--transient", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--delta", type=float, default=0.14)
    ap.add_argument("--memory-mb", type=int, default=512)
    args = ap.parse_args(argv)
    model = network(args.delta)
    X, axis = grid_inputs(args.grid)
    h0 = np.random.default_rng(2).uniform(0.0, 1.0, (N_INIT, N))
    kw = dict(initial_states=h0, n_steps=args.steps, n_transient=args.transient,
              grid_shape=(args.grid, args.grid), axes=[axis, axis],
              axis_names=["coherence 1", "coherence 2"], max_memory=args.memory_mb * 2**20,
              rng=0)
    ak.attractor_census(model, X[:2], **{**kw, "grid_shape": None, "axes": None,
                                         "axis_names": None, "n_transient": 60,
                                         "n_steps": 60})  # JIT warm-up
    t, cpu = time.perf_counter(), time.process_time()
    census = ak.attractor_census(model, X, **kw)
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    att = census.attractors
    updates = int(att.steps.sum())
    lyap_runs = int(np.isfinite(att.lyapunov[..., 0]).sum())
    tangent_rows = int(att.lyapunov.shape[-1] * (att.steps - args.transient)[
        np.isfinite(att.lyapunov[..., 0])].sum())
    rate = updates / wall
    chunk = max(1, (args.memory_mb * 2**20) // (N_INIT * args.steps * N * 8)) * N_INIT
    ceiling = matmul_ceiling(model, min(chunk, X.shape[0] * N_INIT))
    ceiling_big = matmul_ceiling(model, X.shape[0] * N_INIT, reps=20)
    torch_batched = torch_loop(model, min(chunk, X.shape[0] * N_INIT), 200)
    torch_single = torch_loop(model, 1, 2000)
    engine = engine_rate(model, X, h0)
    nominal = att.label.size * (args.transient + args.steps)
    print(census.summary())
    print(f"\nruns {att.label.size}, state updates {updates:,} in {wall:.1f} s (process CPU "
          f"{cpu:.1f} s; load average {os.getloadavg()[0]:.1f}); {lyap_runs} runs also carried "
          f"3 tangent vectors for {args.steps} steps")
    print(f"census throughput            {rate:12,.0f} state updates / s")
    print(f"float64 matmul ceiling (B={min(chunk, X.shape[0] * N_INIT)}) {ceiling:12,.0f} rows / s"
          f"  -> census at {rate / ceiling:.0%} of it (target >= 50%)")
    print(f"float64 matmul ceiling (B={X.shape[0] * N_INIT}) {ceiling_big:12,.0f} rows / s"
          f"  -> census at {rate / ceiling_big:.0%} of it")
    rows = (updates + tangent_rows) / wall
    print(f"GEMM rows of the census (state + {tangent_rows:,} tangent) {rows:12,.0f} rows / s"
          f"  -> {rows / ceiling:.0%} of the B={min(chunk, X.shape[0] * N_INIT)} ceiling")
    print(f"census engine (ak.simulate, all {X.shape[0] * N_INIT} runs, 300 steps) "
          f"{engine:12,.0f} updates / s  -> {engine / ceiling_big:.0%} of the "
          f"B={X.shape[0] * N_INIT} ceiling")
    print(f"PyTorch loop, batched         {torch_batched:12,.0f} updates / s"
          f"  -> census {rate / torch_batched:.1f}x per update")
    print(f"PyTorch loop, one trajectory  {torch_single:12,.0f} updates / s"
          f"  -> census {rate / torch_single:.1f}x per update")
    print(f"\nend to end: the census answered in {wall:.1f} s; a plain PyTorch loop needs "
          f"{nominal / torch_batched:.1f} s (batched) / {nominal / torch_single:.0f} s (one "
          f"trajectory at a time) just to simulate the {nominal:,} steps -> census "
          f"{nominal / torch_batched / wall:.1f}x / {nominal / torch_single / wall:.0f}x faster "
          f"(target >= 5x); runs settled on a fixed point stop early "
          f"({nominal - updates:,} steps skipped)")


if __name__ == "__main__":
    main()
