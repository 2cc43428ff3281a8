"""``attractorkit reproduce``: run (or resume) the RL-vs-SL study and write its report.

Loaded by ``attractorkit/cli.py`` through :func:`register`; also runs standalone::

    python -m attractorkit.reference_models.study_cli reproduce --preset quick
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

__all__ = ["register", "main_reproduce", "main", "DEFAULT_OUT"]

DEFAULT_OUT = "attractorkit-study"

_DESCRIPTION = """\
Train and analyse every network of the study (paradigm x delta x complexity x seed), then
aggregate them into claim verdicts and an HTML report. Finished runs are reused, so a second
call is quick and an interrupted sweep resumes where it stopped (runs in flight are redone).
"""

_EPILOG = """\
presets: tiny (a smoke test), quick (the whole study in <= 15 minutes on 2 cores: N = 64,
  2 deltas, 2 complexity levels, 3 initialisations per cell), standard (N = 250, 3 deltas,
  2 levels, 15 initialisations per cell and an ablation: 1-2 hours on 2 cores, sized by
  the power analysis of docs/study.md; its results are in docs/study/results/), paper
  (N = 250, 7 deltas, 3 levels, 20 per cell: a cluster). --dry-run prints what a preset
  costs on this machine.
output: DIR/run.json (command, revision, wall time, cores), DIR/runs/<run>/ (manifest.json,
  summary.json, analysis.npz, network.npz, training.json) and DIR/report/ (index.html,
  figures/, claims.md, claims.json, study.json, networks.csv, runs.npz). With no run
  directories, --report-only regenerates the report from DIR[/report]/networks.csv and the
  runs.npz beside it.
examples:
  attractorkit reproduce --preset quick
  attractorkit reproduce --preset standard --dry-run
  attractorkit reproduce --config my-study.toml --out results/ --n-jobs 8
  attractorkit reproduce --preset paper --cluster dask://scheduler:8786
  attractorkit reproduce --preset quick --dump-config > my-study.toml
  attractorkit reproduce --preset standard --report-only --out results/standard \
      --reruns results/standard-seeds-15-29
"""


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--preset", default="quick", choices=("tiny", "quick", "standard", "paper"),
                   help="the base configuration (default: quick)")
    p.add_argument("--config", metavar="FILE.toml", type=Path,
                   help="TOML settings that override the preset (it may name its own preset)")
    p.add_argument("--out", metavar="DIR", type=Path, default=None,
                   help=f"output directory (default: ./{DEFAULT_OUT}/<study name>)")
    p.add_argument("--n-jobs", metavar="N", type=int, default=None,
                   help="local worker processes (default: the number of CPUs)")
    p.add_argument("--cluster", metavar="dask://HOST:PORT",
                   help="run on an existing Dask cluster instead of local processes")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="run on an existing Ray cluster ('auto' or HOST:PORT; needs ray)")
    p.add_argument("--report-only", action="store_true",
                   help="do not train: aggregate the finished runs and write the report")
    p.add_argument("--dump-config", action="store_true",
                   help="print the resolved configuration as TOML and exit")
    p.add_argument("--dry-run", action="store_true",
                   help="print the runs, estimated CPU-hours, wall time and peak memory on "
                        "this machine (from short measurements here), and exit")
    p.add_argument("--reruns", metavar="DIR", type=Path, nargs="+", default=(),
                   help="output directories of reruns of the same study with other seeds; "
                        "each claim reports the share of them giving the same verdict")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


#: the largest networks.csv a rerun may bring (the standard preset's is about 210 kB)
MAX_TABLE_BYTES = 64 * 2**20


def _rerun_tables(dirs) -> list[dict]:
    """The run tables (``networks.csv``) of the ``--reruns`` directories."""
    from attractorkit.core._errors import ValidationError

    from .study.aggregate import read_csv

    tables = []
    for d in dirs:
        found = [p for p in (d / "networks.csv", d / "report" / "networks.csv") if p.is_file()]
        if not found:
            raise ValidationError(f"--reruns: expected a study output directory with "
                                  f"networks.csv or report/networks.csv, received {d}")
        path = found[0]
        if path.is_symlink() or path.stat().st_size > MAX_TABLE_BYTES:
            raise ValidationError(f"--reruns: expected a regular networks.csv of at most "
                                  f"{MAX_TABLE_BYTES // 2**20} MB, received {path} (a link or "
                                  f"{path.stat().st_size} bytes)")
        tables.append(read_csv(path.read_text()))
    return tables


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``reproduce`` command to an ``argparse`` subparsers object."""
    p = subparsers.add_parser(
        "reproduce", help="run or resume the reference study sweep and write its report",
        description=_DESCRIPTION, epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(p)
    p.set_defaults(func=main_reproduce)
    return p


def main_reproduce(args) -> int:
    """Run the ``reproduce`` command; returns the exit status.

    0: every run finished and the report is written; 1: some runs failed (the report covers
    the finished ones) or nothing could be reported; 2: bad configuration or arguments.
    """
    from attractorkit.core._errors import ValidationError

    from .study.presets import load_config

    try:
        config = load_config(args.config, preset_name=args.preset)
    except ValidationError as exc:
        print(f"attractorkit reproduce: error: {exc}", file=sys.stderr)
        return 2
    if args.dump_config:
        sys.stdout.write(config.to_toml())
        return 0
    out = args.out if args.out is not None else Path(DEFAULT_OUT) / config.name
    n_jobs = args.n_jobs if args.n_jobs is not None else max(1, os.cpu_count() or 1)
    if n_jobs < 1:
        print(f"attractorkit reproduce: error: --n-jobs: expected >= 1, received {n_jobs}",
              file=sys.stderr)
        return 2
    if args.dry_run:
        return _dry_run(config, n_jobs)
    try:
        return _run(config, out, n_jobs, args)
    except ValidationError as exc:
        print(f"attractorkit reproduce: error: {exc}", file=sys.stderr)
        return 2


def _dry_run(config, n_jobs: int) -> int:
    from .study.cost import estimate
    from .study.runner import expand_runs

    specs = expand_runs(config)
    counts: dict = {}
    for s in specs:
        counts[(s.paradigm, s.complexity)] = counts.get((s.paradigm, s.complexity), 0) + 1
    print(f"study {config.name!r}: {len(specs)} runs (N = {config.n_hidden}; deltas "
          f"{', '.join(f'{d:g}' for d in config.deltas)}; {len(config.seeds)} "
          f"initialisations per cell)")
    for (p, c), n in sorted(counts.items()):
        print(f"  {p:10s} {c:10s} {n} runs")
    print("measuring unit costs on this machine ...", file=sys.stderr)
    print(estimate(config, n_jobs=n_jobs).summary())
    return 0


def _run(config, out: Path, n_jobs: int, args) -> int:
    from .study.report import RUNS_FILE, unpack_runs, write_report
    from .study.runner import finished_runs, run_sweep

    start = time.perf_counter()
    code = 0
    reruns = _rerun_tables(args.reruns)   # read first: a bad directory fails before a sweep
    if not args.report_only:
        where = (f"Dask cluster {args.cluster}" if args.cluster else
                 f"Ray cluster {args.ray}" if args.ray else f"{n_jobs} local process(es)")
        print(f"study {config.name!r}: {config.n_runs} runs -> {out} on {where}",
              file=sys.stderr)
        rep = run_sweep(config, out, n_jobs=n_jobs, cluster=args.cluster, ray=args.ray,
                        progress=not args.no_progress, processes=True)
        print(rep.summary(), file=sys.stderr)
        _write_run_record(out, args, time.perf_counter() - start, n_jobs, rep)
        if rep.failed:
            code = 1
    table = runs = None
    if not finished_runs(out):
        saved = [p for p in (out / "networks.csv", out / "report" / "networks.csv")
                 if p.is_file()]
        if not saved:
            print(f"attractorkit reproduce: error: no finished runs and no networks.csv in "
                  f"{out}", file=sys.stderr)
            return 1
        from .study.aggregate import read_csv

        table = read_csv(saved[0].read_text())
        packed = saved[0].parent / RUNS_FILE
        if packed.is_file():
            runs = unpack_runs(packed, table)
            print(f"no run directories: the report is computed from {saved[0]} and "
                  f"{packed}", file=sys.stderr)
        else:
            print(f"no run directories: the report is computed from {saved[0]} (no "
                  f"{RUNS_FILE} beside it: figures that need the runs' arrays are left out)",
                  file=sys.stderr)
    path = write_report(out, config, table=table, runs=runs, reruns=reruns)
    print((path.parent / "claims.md").read_text())
    print(f"report: {path} ({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return code


def _write_run_record(out: Path, args, wall: float, n_jobs: int, rep) -> None:
    """``out/run.json``: the command, the code revision, the wall time and the machine of the
    sweep. Every call is listed under ``calls``; ``wall_time_s`` sums them, so a sweep that was
    interrupted and resumed reports the time it took in all."""
    import json
    import platform

    from attractorkit import __version__
    from attractorkit.core._files import write_text

    call = {"wall_time_s": round(wall, 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "computed": len(rep.computed), "reused": len(rep.reused), "failed": len(rep.failed)}
    calls = _previous_calls(out / "run.json") + [call]
    record = {"command": "attractorkit " + " ".join(_command_args(args)),
              "revision": _revision(), "version": __version__,
              "wall_time_s": round(sum(c["wall_time_s"] for c in calls), 1),
              "cores": os.cpu_count(), "n_jobs": n_jobs, "cluster": args.cluster or args.ray,
              "machine": platform.machine(), "python": platform.python_version(),
              "runs": {"computed": sum(c["computed"] for c in calls),
                       "failed": len(rep.failed), "total": rep.total},
              "calls": calls}
    write_text(out, "run.json", json.dumps(record, indent=1) + "\n")


def _previous_calls(path: Path) -> list[dict]:
    """The calls an earlier ``run.json`` recorded (none if it is missing, too large or not
    one of ours: the record is then started afresh)."""
    import json

    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 2**20:
            return []
        calls = json.loads(path.read_text()).get("calls", [])
    except (OSError, ValueError, AttributeError):
        return []
    keys = {"wall_time_s", "finished", "computed", "reused", "failed"}
    return [c for c in calls if isinstance(c, dict) and keys <= set(c)] if isinstance(
        calls, list) else []


def _command_args(args) -> list[str]:
    parts = ["reproduce"]
    if args.config is not None:
        parts += ["--config", str(args.config)]
    else:
        parts += ["--preset", args.preset]
    if args.n_jobs is not None:
        parts += ["--n-jobs", str(args.n_jobs)]
    if args.cluster:
        parts += ["--cluster", args.cluster]
    if args.ray:
        parts += ["--ray", args.ray]
    return parts


def _revision() -> str | None:
    """The git commit of the code that ran (None outside a git checkout)."""
    import subprocess

    root = Path(__file__).resolve().parents[2]
    try:
        res = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    rev = res.stdout.strip()
    return rev if res.returncode == 0 and rev else None


def main(argv=None) -> int:
    """Standalone entry point (``python -m attractorkit.reference_models.study_cli``)."""
    parser = argparse.ArgumentParser(prog="python -m attractorkit.reference_models.study_cli")
    parser.add_argument("--debug", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    register(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="attractorkit: %(levelname)s: %(message)s")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
