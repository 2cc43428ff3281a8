"""Issue 20: what a first use compiles. A vanilla model's Newton solve and batched cell functions
compile only their own kernels: no gated-cell code, and none of numba's error-message
formatting (a slice assignment between arrays, or ``np.linalg.solve``'s argument copies, pull
in string code that cost the Newton kernel several seconds of its 11 s first compilation)."""

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import json
    import numpy as np
    from numba.core import event

    compiled = []

    class Listener(event.Listener):
        def on_start(self, ev):
            f = ev.data["dispatcher"].py_func
            compiled.append(f"{f.__module__}:{f.__qualname__}")

        def on_end(self, ev):
            pass

    event.register("numba:compile", Listener())

    from attractorkit._kernels.compiling import compile_log
    from attractorkit.adapters import VanillaRNN
    from attractorkit.fixed_points import newton_solve

    rng = np.random.default_rng(0)
    model = VanillaRNN(rng.normal(0, 0.3, (5, 5)), rng.normal(size=(5, 2)))
    H0 = rng.normal(size=(3, 5))
    solutions = newton_solve(model, H0, np.zeros((3, 2)))
    model.step(H0, np.zeros((3, 2)))
    model.jacobian(H0, np.zeros((3, 2)))
    print(json.dumps({"top": [c.name for c in compile_log()], "all": compiled,
                      "converged": int(solutions.converged.sum())}))
""")


def test_a_vanilla_first_use_compiles_no_gated_cell_and_no_string_code(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["converged"] >= 1
    assert "newton_rows" in out["top"]
    assert not {"_gated_step_rows", "_gated_jacobian_rows"} & set(out["top"])
    assert not [name for name in out["all"] if "gated" in name], out["all"]
    strings = [name for name in out["all"] if name.startswith("numba.cpython.unicode")]
    assert not strings, strings
