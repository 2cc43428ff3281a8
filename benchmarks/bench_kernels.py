"""Cell kernels against their natural baselines, for a 250-unit ReLU RNN.

1. Kernel step throughput at batch 1024 against the float64 matmul of the same size
   (``H @ W.T`` with numpy's BLAS: the machine's ceiling for this work). Target: within 1.5x.
2. Batched Jacobians at batch 256 against ``torch.func.vmap(jacrev)`` on the same model in
   float64. Target: at least 10x faster.

Run: ``python benchmarks/bench_kernels.py`` (prints timings and ratios).
"""

from __future__ import annotations

import time

import numpy as np

N, M = 250, 7


def best_of(fns, repeat=9, number=5):
    """Best mean time per call of each function, measured interleaved (robust to load)."""
    for fn in fns:
        fn()  # warm up (and compile)
    best = [np.inf] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[k] = min(best[k], (time.perf_counter() - t0) / number)
    return best


def main():
    from attractorkit.adapters import TorchModel, VanillaRNN

    rng = np.random.default_rng(0)
    W = rng.uniform(-0.1, 0.1, (N, N))
    U = rng.uniform(-0.1, 0.1, (N, M))
    b = rng.uniform(-0.1, 0.1, N)
    model = VanillaRNN(W, U, b, activation="relu")

    # 1. step throughput
    B = 1024
    H = rng.normal(size=(B, N))
    X = rng.normal(size=(B, M))
    t_matmul, t_step = best_of([lambda: H @ W.T, lambda: model.step(H, X)])
    print(f"step, batch {B}, N={N}: kernel {t_step * 1e3:.3f} ms, float64 matmul "
          f"{t_matmul * 1e3:.3f} ms -> ratio {t_step / t_matmul:.2f}x (target <= 1.5x)")

    # 2. batched Jacobians (torch is imported only now: its OpenMP runtime, once loaded, slows
    # the BLAS threads of part 1 on both sides alike, but not equally)
    import torch

    B = 256
    H = rng.normal(size=(B, N))
    X = rng.normal(size=(B, M))
    rnn = torch.nn.RNN(M, N, nonlinearity="relu", dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_hh_l0.copy_(torch.from_numpy(W))
        rnn.weight_ih_l0.copy_(torch.from_numpy(U))
        rnn.bias_hh_l0.copy_(torch.from_numpy(b))
        rnn.bias_ih_l0.zero_()
    tm = TorchModel(rnn)
    cell = torch.nn.RNNCell(M, N, nonlinearity="relu", dtype=torch.float64)
    cell.load_state_dict({"weight_ih": rnn.weight_ih_l0, "weight_hh": rnn.weight_hh_l0,
                          "bias_ih": rnn.bias_ih_l0, "bias_hh": rnn.bias_hh_l0})
    params = {k: v.detach() for k, v in cell.named_parameters()}

    def f(h, x):
        return torch.func.functional_call(cell, params, (x, h))

    jac = torch.func.vmap(torch.func.jacrev(f, argnums=0))
    Ht, Xt = torch.from_numpy(H), torch.from_numpy(X)
    np.testing.assert_allclose(jac(Ht, Xt).numpy(), tm.jacobian(H, X), atol=1e-12)
    t_torch, t_kernel = best_of([lambda: jac(Ht, Xt), lambda: tm.jacobian(H, X)],
                                repeat=5, number=2)
    print(f"jacobian, batch {B}, N={N}: kernel {t_kernel * 1e3:.2f} ms, torch.func "
          f"vmap(jacrev) {t_torch * 1e3:.2f} ms -> speed-up {t_torch / t_kernel:.1f}x "
          f"(target >= 10x)")


if __name__ == "__main__":
    main()
