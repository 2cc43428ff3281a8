"""The planted benchmark of the attractor classifier (tests/attractors/planted.py).

    python benchmarks/bench_classify.py                  # both halves
    python benchmarks/bench_classify.py --half heldout   # one half
    python benchmarks/bench_classify.py --family ns_rnn --verbose

Classifies every planted system with the defaults of ``classify_attractors`` (from the
system's initial states) and prints, per half, the confusion matrix (truth by label), the
shares right, undetermined, wrong and confidently wrong (a wrong label with confidence >= 0.9),
and how many labels with confidence >= 0.9 were right, plus the time per half. The tuning
half is the one the rules' thresholds were chosen on; the held-out half was not looked at.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests"), os.path.join(HERE, "..", "tests",
                                                                  "attractors")]

import planted  # noqa: E402


def run(half, families=None, verbose=False):
    t0 = time.perf_counter()
    systems = planted.systems(half, families=families)
    t_gen = time.perf_counter() - t0
    rows, t1 = [], time.perf_counter()
    for s in systems:
        t = time.perf_counter()
        a = planted.classify(s)
        new = planted.score(s, a)
        rows += new
        if verbose or not all(r[5] for r in new):
            for r in new:
                mark = "ok " if r[5] else ("und" if r[3] == "undetermined" else "BAD")
                print(f"  {mark} {r[0]} [{r[2]}] -> {r[3]} ({r[4]:.2f}) {r[6]} "
                      f"[{time.perf_counter() - t:.1f}s]", flush=True)
    t_cls = time.perf_counter() - t1
    s = planted.summary(rows)
    print(planted.format_summary(s, f"{half} half ({len(systems)} systems)"))
    print(f"\ngeneration {t_gen:.0f} s, classification {t_cls:.0f} s\n", flush=True)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--half", choices=["tuning", "heldout", "both"], default="both")
    ap.add_argument("--family", action="append", help="only these families (repeatable)")
    ap.add_argument("--verbose", action="store_true", help="print every label, not only misses")
    args = ap.parse_args()
    halves = ["tuning", "heldout"] if args.half == "both" else [args.half]
    for h in halves:
        run(h, args.family, args.verbose)


if __name__ == "__main__":
    main()
