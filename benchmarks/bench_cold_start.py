"""Cold start: the README's Python example from an empty numba cache, against the same example
with the cache warm (the baseline, measured in the same run).

    python benchmarks/bench_cold_start.py              # cold, warm, and cold after a warmup
    python benchmarks/bench_cold_start.py --repeat 3   # best of three of each
    python benchmarks/bench_cold_start.py --no-warmup  # skip the warmup scenario

Every measurement runs the example in a fresh Python process (``NUMBA_CACHE_DIR`` pointing to a
new temporary directory for the cold runs), in a temporary working directory, and reports:

- wall time of the whole script (imports, compilation, analysis, report) and the CPU time of
  the process (compilation is single-threaded, so CPU time is the less load-sensitive figure
  on a shared machine);
- the kernels numba compiled (each top-level kernel with its compilation time), from the
  package's own record of compilations (``attractorkit._kernels.compiling``);
- whether the first-use notice was shown on stderr.

Scenarios: ``cold`` (empty cache), ``warm`` (the cache the cold run left), and ``warmup``:
``attractorkit.dynamics.warmup(analyses=(ak.analyze,))`` in one process, then the example in
another (the kernels warmup does not cover are those the example still compiles).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "@@BENCH@@"

REPORTER = textwrap.dedent(f"""
    import json, resource, sys, time
    _wall = time.perf_counter() - _T0
    try:
        from attractorkit._kernels.compiling import compile_log
        _kernels = [(c.name, round(c.seconds, 2)) for c in compile_log()]
    except ImportError:  # a version without the record: no list
        _kernels = None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print("{MARK}" + json.dumps({{"wall": _wall, "cpu": usage.ru_utime + usage.ru_stime,
                                  "kernels": _kernels}}))
""")


def readme_example() -> str:
    """The first python block after the README's "Ten lines" heading."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Ten lines"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run(code: str, cache: str) -> dict:
    """Run ``code`` in a fresh interpreter with NUMBA_CACHE_DIR=cache; its figures."""
    script = "import time\n_T0 = time.perf_counter()\n" + code + "\n" + REPORTER
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env,
                              capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the example failed:\n{proc.stderr[-3000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(MARK))
    out = json.loads(line[len(MARK):])
    out["notice"] = "compiling numba kernels" in proc.stderr
    return out


def scenario(name: str, example: str, with_warmup: bool) -> dict:
    with tempfile.TemporaryDirectory(prefix="nbcache-") as cache:
        warm = None
        if with_warmup:
            warm = run("import attractorkit as ak\nfrom attractorkit.dynamics import warmup\n"
                       "warmup(analyses=(ak.analyze,))", cache)
        cold = run(example, cache)
        again = run(example, cache) if name == "cold" else None
    return {"name": name, "warmup": warm, "first": cold, "warm": again}


def show(label: str, r: dict) -> None:
    ks = r["kernels"]
    what = "kernels not recorded" if ks is None else \
        f"{len(ks):2d} kernels compiled ({sum(s for _, s in ks):5.1f} s)"
    print(f"  {label:<22} wall {r['wall']:6.1f} s   cpu {r['cpu']:6.1f} s   {what}   notice: "
          f"{'yes' if r['notice'] else 'no'}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="runs of each scenario (best kept)")
    ap.add_argument("--no-warmup", action="store_true", help="skip the warmup scenario")
    ap.add_argument("--kernels", action="store_true", help="list every kernel compiled")
    args = ap.parse_args(argv)
    example = readme_example()
    print(f"README example ({len(example.splitlines())} lines), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")
    best: dict = {}
    for _ in range(args.repeat):
        for name, wu in (("cold", False), ("warmup", True)):
            if wu and args.no_warmup:
                continue
            r = scenario(name, example, wu)
            if name not in best or r["first"]["wall"] < best[name]["first"]["wall"]:
                best[name] = r
    cold = best["cold"]
    show("cold (empty cache)", cold["first"])
    show("warm (cached)", cold["warm"])
    if "warmup" in best:
        show("warmup() itself", best["warmup"]["warmup"])
        show("example after warmup", best["warmup"]["first"])
    ratio = cold["first"]["wall"] / cold["warm"]["wall"]
    print(f"cold / warm: {ratio:.1f}x (target: cold within 20 s, with a notice)")
    if args.kernels and cold["first"]["kernels"]:
        for kname, secs in sorted(cold["first"]["kernels"], key=lambda k: -k[1]):
            print(f"    {secs:6.2f} s  {kname}")


if __name__ == "__main__":
    main()
