"""Time ak.analyze with its defaults on a 250-unit ReLU RNN over a 10 x 10 input grid.

The target: about a minute on two cores. The baseline, measured in the same run, is a plain
numpy simulation of the census's state updates (100 conditions x 8 initial states x 2000 steps,
one batched matmul per step), so the ratio says what the whole analysis costs in units of simply
running the network. Run: python benchmarks/bench_analyze.py
"""

import time

import numpy as np

import attractorkit as ak
from attractorkit import adapters


def model_and_grid(n=250, delta=0.1, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.uniform(-delta, delta, (n, n))
    U = rng.uniform(-delta, delta, (n, 7))
    b = rng.uniform(-delta, delta, n)
    model = adapters.VanillaRNN(W, U, b, activation="relu")
    grid = np.zeros((10, 10, 7))
    grid[..., 0] = 1.0
    a = np.linspace(-1, 1, 10)
    grid[..., 1], grid[..., 2] = a[:, None], a[None, :]
    return model, grid, (W, U, b)


def numpy_baseline(W, U, b, grid, n_init=8, n_steps=2000, seed=0):
    X = grid.reshape(-1, 7)
    H = np.random.default_rng(seed).standard_normal((X.shape[0] * n_init, W.shape[0]))
    drive = np.repeat(X @ U.T + b, n_init, axis=0)
    t0 = time.perf_counter()
    for _ in range(n_steps):
        H = np.maximum(H @ W.T + drive, 0.0)
    return time.perf_counter() - t0


def main():
    model, grid, (W, U, b) = model_and_grid()
    ak.analyze(model, grid[:1, :2], rng=0)           # compile (numba caches) outside the timing
    base = numpy_baseline(W, U, b, grid)
    t0 = time.perf_counter()
    result = ak.analyze(model, grid, rng=0)
    total = time.perf_counter() - t0
    print(result.summary())
    print(f"analyze, defaults, 250 units x 10x10 grid: {total:.1f} s")
    print(f"numpy baseline (census state updates only): {base:.1f} s")
    print(f"ratio analyze / baseline: {total / base:.2f}")
    for stage, seconds in result.timings.items():
        print(f"  {stage:13s} {seconds:7.1f} s")


if __name__ == "__main__":
    main()
