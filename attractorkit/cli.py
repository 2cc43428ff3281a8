"""The ``attractorkit`` command: analyze a model file, render a report, compile the kernels
ahead of time (warmup), train and reproduce.

Exit codes: 0 success; 1 the work itself failed (including writing its results); 2 the command
line or a file it names is wrong (missing file, unknown format, spec that does not match the
weights, malformed inputs, an output directory that cannot be created or written, a value out of
range, a size above the memory budget). Every input is checked before any work starts.
Errors are one line on stderr, ``attractorkit: error: ...``; ``--debug`` shows tracebacks.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

import numpy as np

__all__ = ["main", "build_parser", "parse_inputs", "load_states"]

RESULT_NAME = "analysis.npz"
REPORT_NAME = "report.html"
SUMMARY_NAME = "summary.txt"

# subcommands that live in the reference client: name -> (module, one-line help)
_EXTERNAL = {
    "train": ("attractorkit.reference_models.cli",
              "train a reference network on the context-dependent decision task"),
    "reproduce": ("attractorkit.reference_models.study_cli",
                  "run or resume the reference study sweep and write its report"),
}

_EPILOG = """\
exit codes: 0 success, 1 the analysis failed, 2 bad command line or input file.
examples:
  attractorkit warmup
  attractorkit analyze rnn.pt --inputs=0,0,0 --out results/
  attractorkit analyze weights.safetensors --spec spec.json --inputs=-1:1:10,-1:1:10 --out grid/
  attractorkit analyze lstm.pt --inputs=0,0 --fixed-point-states trials.npy --out memories/
  attractorkit report grid/
"""


class CliError(Exception):
    """A problem to report in one line; ``code`` is the exit status."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


# -- parser ------------------------------------------------------------------------------------
def build_parser(argv=()) -> argparse.ArgumentParser:
    """The argument parser; reference-client commands are imported only when ``argv`` asks."""
    parser = argparse.ArgumentParser(
        prog="attractorkit",
        description="Dynamical-systems analysis of recurrent neural networks: fixed points, "
                    "cycles, attractor types, Lyapunov spectra, reports.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"attractorkit {_version()}")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks and debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_analyze(sub)
    _add_report(sub)
    _add_warmup(sub)
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, text) in _EXTERNAL.items():
        if name == wanted:
            _register_external(sub, name, module, text)
        else:
            p = sub.add_parser(name, help=text, add_help=False)
            p.set_defaults(func=lambda args: 0)
    return parser


def _add_analyze(sub):
    p = sub.add_parser(
        "analyze", help="analyse a model file and write results, a summary and an HTML report",
        description="Analyse a recurrent model held in a file: fixed points and their "
                    "stability, cycles, the attractor census with Lyapunov exponents. Writes "
                    f"DIR/{RESULT_NAME} (load with attractorkit.Analysis.load), "
                    f"DIR/{SUMMARY_NAME} and DIR/{REPORT_NAME}.",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL",
                   help="a .safetensors or .npz file of weights (with a JSON spec), or a "
                        "PyTorch state_dict of nn.RNN/GRU/LSTM (.pt/.pth/.ckpt/.bin; loaded with "
                        "weights_only=True, pickled code is never run)")
    p.add_argument("--spec", metavar="JSON",
                   help="the model spec, e.g. {\"cell\": \"vanilla\", \"activation\": \"relu\"}; "
                        "default: MODEL's name with the suffix .json, when it exists")
    p.add_argument("--inputs", required=True, metavar="SPEC",
                   help="constant inputs: a .npy/.csv/.txt file of shape (n_input,), "
                        "(n_conditions, n_input) or (*grid, n_input); or one entry per input "
                        "separated by commas, each a number or a range START:STOP:NUM, ranges "
                        "making a grid (write --inputs=-1:1:10,0 when it starts with '-')")
    p.add_argument("--out", required=True, metavar="DIR", help="output directory (created)")
    p.add_argument("--axis-names", metavar="NAMES",
                   help="comma-separated names of the grid axes (default: input 0, input 1...)")
    p.add_argument("--grid-shape", metavar="SHAPE",
                   help="comma-separated grid shape for a flat inputs file, e.g. 10,10")
    p.add_argument("--activity", metavar="NPY",
                   help="recorded activity (n_samples, n_units) .npy, for the information "
                        "analyses (needs --variables)")
    p.add_argument("--variables", metavar="NPZ",
                   help="task variables as an .npz of named (n_samples,) arrays")
    for flag, what in (("n-init", "initial conditions per input (census, Lyapunov)"),
                       ("n-steps", "recorded simulation steps per initial condition"),
                       ("n-transient", "transient steps run before the recording (0 allowed)"),
                       ("n-fixed-point-init", "initial states per input for the fixed-point "
                                              "search"),
                       ("n-exponents", "leading Lyapunov exponents computed")):
        kind = _count if flag == "n-transient" else _positive_int
        p.add_argument(f"--{flag}", type=kind, metavar="N",
                       help=f"{what} (default {_default(flag)})")
    p.add_argument("--fixed-point-states", metavar="NPY",
                   help="a .npy of states, (n, n_state) or (n_conditions, n, n_state), that the "
                        "fixed-point search samples its seeds from (e.g. states visited in "
                        "trials); they start no census runs")
    p.add_argument("--initial-states", metavar="NPY",
                   help="a .npy of states, (n_init, n_state) or (n_conditions, n_init, "
                        "n_state), where the census runs, the Lyapunov pass and the sample "
                        "trajectories start; their number replaces --n-init")
    p.add_argument("--cycles", metavar="PERIODS",
                   help="comma-separated periods of the cycles searched in maps (default 2; "
                        "'none' to skip)")
    for stage in ("fixed-points", "census", "lyapunov", "state-space"):
        words = stage.replace("-", " ")
        p.add_argument(f"--no-{stage}", action="store_true", help=f"skip the {words} stage")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--title", help="title of the HTML report")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func=run_analyze)


def _add_report(sub):
    p = sub.add_parser(
        "report", help="render the HTML report of a saved analysis",
        description=f"Render DIR/{RESULT_NAME} (or a result file) as one self-contained HTML "
                    f"file, DIR/{REPORT_NAME} by default.")
    p.add_argument("result", metavar="RESULT_DIR",
                   help=f"a directory written by 'attractorkit analyze', or its {RESULT_NAME}")
    p.add_argument("--out", metavar="HTML", help=f"where to write (default RESULT_DIR/"
                                                 f"{REPORT_NAME})")
    p.add_argument("--title", help="title of the report")
    p.set_defaults(func=run_report)


#: ``warmup --analyses`` names: what each runs on the tiny models (besides the dynamics engine).
_WARMUP_ANALYSES = {
    "analyze": "everything 'attractorkit analyze' runs (fixed points, cycles, census, Lyapunov "
               "spectra, state space)",
    "fixed-points": "the fixed-point search only",
    "census": "the attractor census only",
}


def _add_warmup(sub):
    p = sub.add_parser(
        "warmup", help="compile the numba kernels once, ahead of the first analysis",
        description="Compile the numba kernels ahead of their first use and store them in "
                    "numba's cache (NUMBA_CACHE_DIR, or the package's __pycache__), so that "
                    "the first 'attractorkit analyze' (or ak.analyze) starts at once. Runs "
                    "each chosen analysis on a tiny model of each kind; prints the kernels "
                    "compiled and the time taken (nothing to compile when the cache is warm).")
    p.add_argument("--cells", metavar="CELLS",
                   help="comma-separated model kinds to prepare, from vanilla, gru, lstm "
                        "(default all)")
    p.add_argument("--analyses", metavar="NAMES", default="analyze",
                   help="comma-separated analyses run on the tiny models: "
                        + "; ".join(f"{k}: {v}" for k, v in _WARMUP_ANALYSES.items())
                        + "; none: the dynamics engine only (default analyze)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--quiet", action="store_true", help="print nothing")
    p.set_defaults(func=run_warmup)


def _register_external(sub, name, module, text):
    try:
        importlib.import_module(module).register(sub)
    except Exception as exc:  # noqa: BLE001 - any failure: explain it, keep the CLI working
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        p = sub.add_parser(name, help=f"{text} (unavailable)", add_help=False)

        def unavailable(args, _reason=reason):
            raise CliError(f"the '{name}' command needs {module}, which could not be loaded "
                           f"({_reason}); install the study extra: pip install "
                           "'attractorkit[study]'", code=1)

        p.set_defaults(func=unavailable, accepts_any_arguments=True)


def _positive_int(text, minimum=1):
    what = "a positive" if minimum == 1 else "a non-negative"
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what} integer, received {text!r}") from None
    if v < minimum:
        raise argparse.ArgumentTypeError(f"expected {what} integer, received {v}")
    return v


def _count(text):
    return _positive_int(text, minimum=0)


def _default(flag):
    from .analysis._defaults import DEFAULTS

    return DEFAULTS[flag.replace("-", "_")]


# -- inputs ------------------------------------------------------------------------------------
def parse_inputs(text: str, n_input: int):
    """``--inputs`` -> (inputs array, grid_shape or None, axis names or None)."""
    from .core._budget import check_memory

    path = Path(text)
    if path.suffix.lower() in (".npy", ".csv", ".txt") or path.is_file():
        return _inputs_file(path), None, None
    entries = [e.strip() for e in text.split(",")]
    if len(entries) != n_input:
        raise CliError(f"--inputs: expected {n_input} comma-separated entries (one per model "
                       f"input), received {len(entries)} in {text!r}")
    axes, names, values = [], [], []
    for j, entry in enumerate(entries):
        parts = entry.split(":")
        try:
            if len(parts) == 1:
                values.append(np.array([float(parts[0])]))
                continue
            if len(parts) != 3:
                raise ValueError
            start, stop, num = float(parts[0]), float(parts[1]), int(parts[2])
            if num < 1:
                raise ValueError
        except ValueError:
            raise CliError(f"--inputs: entry {j} {entry!r} is neither a number nor a range "
                           "START:STOP:NUM") from None
        if not (np.isfinite(start) and np.isfinite(stop)):
            raise CliError(f"--inputs: entry {j} {entry!r} has a bound that is not finite")
        axes.append(num)
        check_memory((8, n_input, *axes), argument="--inputs (the grid's ranges)",
                     what="the input grid")
        values.append(np.linspace(start, stop, num))
        names.append(f"input {j}")
    mesh = np.meshgrid(*values, indexing="ij")
    grid = np.stack([m.reshape(-1) for m in mesh], axis=1)
    if not axes:
        return grid[0], None, None
    return grid, tuple(axes), tuple(names)


def _inputs_file(path: Path):
    if not path.is_file():
        raise CliError(f"--inputs: no such file {str(path)!r}")
    if path.suffix.lower() == ".npy":
        from .core._archive import load_npy

        return _input_stage(load_npy, path, argument="--inputs")
    try:
        return np.loadtxt(path, delimiter="," if path.suffix.lower() == ".csv" else None,
                          ndmin=1)
    except Exception as exc:  # noqa: BLE001
        raise CliError(f"--inputs: cannot read {path} ({_one_line(exc)})") from None


def _csv(text, kind, flag):
    try:
        return tuple(kind(t.strip()) for t in text.split(","))
    except ValueError:
        raise CliError(f"{flag}: expected comma-separated {kind.__name__}s, received "
                       f"{text!r}") from None


# -- commands ----------------------------------------------------------------------------------
def run_analyze(args) -> int:
    """``analyze``: every input (model, inputs, recordings, output directory) is checked before
    the analysis starts (exit 2); a failure of the analysis or of writing its files is exit 1."""
    import attractorkit as ak

    from .adapters._files import load_model
    from .core._errors import AttractorKitError, ValidationError

    out = _output_dir(args.out, "--out", names=(RESULT_NAME, SUMMARY_NAME, REPORT_NAME))
    model = _input_stage(load_model, args.model, spec=args.spec)
    inputs, grid_shape, names = _input_stage(parse_inputs, args.inputs, model.n_input)
    if args.grid_shape:
        grid_shape = _csv(args.grid_shape, int, "--grid-shape")
    if args.axis_names:
        names = _csv(args.axis_names, str, "--axis-names")
    activity, variables = _recordings(args)
    initial, fp_states = _state_files(args, model, inputs)
    cycles = None
    if args.cycles:
        cycles = False if args.cycles.strip().lower() == "none" else _csv(args.cycles, int,
                                                                          "--cycles")
    sizes = dict(n_init=args.n_init, n_steps=args.n_steps, n_transient=args.n_transient,
                 n_fixed_point_init=args.n_fixed_point_init, n_exponents=args.n_exponents)
    kw = dict(
        initial_states=initial, fixed_point_states=fp_states, activity=activity,
        variables=variables,
        fixed_points=not args.no_fixed_points, census=not args.no_census,
        lyapunov=not args.no_lyapunov, state_space=not args.no_state_space, cycles=cycles,
        grid_shape=grid_shape, axis_names=names, rng=args.seed, progress=not args.no_progress,
        **{k: v for k, v in sizes.items() if v is not None})  # unset: analyze's defaults
    try:
        result = ak.analyze(model, inputs, **kw)
    except ValidationError as exc:
        raise CliError(_one_line(exc), code=2) from None
    except AttractorKitError as exc:
        raise CliError(f"the analysis failed: {_one_line(exc)}", code=1) from None
    summary = result.summary()
    written = _write_outputs(result, out, summary, report=not args.no_report, title=args.title)
    if not args.quiet:
        print(summary)
    for path in written:
        print(f"wrote {path}")
    return 0


def _write_outputs(result, out: Path, summary: str, *, report: bool, title) -> list[Path]:
    """Write the result, the summary and the report through the safe writer; a failure here
    comes after the work, so it is exit 1."""
    from .core._files import write_text

    try:
        written = [result.save(out / RESULT_NAME),
                   write_text(out, SUMMARY_NAME, summary + "\n")]
        if report:
            written.append(result.report(out / REPORT_NAME, title=title))
    except (OSError, ValueError) as exc:
        raise CliError(f"writing the results to {out} failed: {_one_line(exc)}",
                       code=1) from None
    return written


def _output_dir(path, flag: str, *, names=()) -> Path:
    """Resolve, create and probe an output directory before any work (exit 2 when it cannot
    be used); ``names`` are the files to be written there, refused when they are directories."""
    from .core._errors import ValidationError
    from .core._files import check_name, output_dir

    try:
        out = output_dir(path, argument=flag)
        for name in names:
            target = out / check_name(name)
            if target.is_dir() and not target.is_symlink():
                raise ValidationError(f"{flag}: {str(target)!r} is a directory; the file "
                                      f"{name} cannot be written there")
    except ValidationError as exc:
        raise CliError(_one_line(exc), code=2) from None
    return out


def _input_stage(func, *args, **kw):
    """Run a step that reads the user's files; their errors are usage errors (exit 2)."""
    from .core._errors import AttractorKitError

    try:
        return func(*args, **kw)
    except CliError:
        raise
    except (AttractorKitError, OSError) as exc:
        raise CliError(_one_line(exc), code=2) from None


def _recordings(args):
    if (args.activity is None) != (args.variables is None):
        raise CliError("--activity and --variables go together (recorded activity and the task "
                       "variables aligned with it)")
    if args.activity is None:
        return None, None
    for flag, value in (("--activity", args.activity), ("--variables", args.variables)):
        if not Path(value).is_file():
            raise CliError(f"{flag}: no such file {value!r}")
    from .core._archive import load_npy, load_npz

    activity = _input_stage(load_npy, args.activity, argument="--activity")
    variables = _input_stage(load_npz, args.variables, argument="--variables")
    return activity, variables


def _state_files(args, model, inputs):
    """``--initial-states`` and ``--fixed-point-states``: (initial_states, fixed_point_states),
    each None when not given. Two separate meanings: the first starts the census runs, the
    second only seeds the fixed-point search."""
    if args.initial_states is not None and args.n_init is not None:
        raise CliError("--initial-states and --n-init: give one of them (the number of "
                       "initial states is the number of census runs per input)")
    if args.fixed_point_states is not None and args.no_fixed_points:
        raise CliError("--fixed-point-states: the fixed-point stage is off (--no-fixed-points)"
                       "; the states would not be used")
    arr = np.asarray(inputs)
    n_conditions = 1 if arr.ndim == 1 else int(np.prod(arr.shape[:-1]))
    return tuple(None if path is None else
                 load_states(path, flag=flag, n_state=model.n_state, n_conditions=n_conditions)
                 for flag, path in (("--initial-states", args.initial_states),
                                    ("--fixed-point-states", args.fixed_point_states)))


def load_states(path, *, flag: str, n_state: int, n_conditions: int) -> np.ndarray:
    """A .npy of model states, (n, n_state) or (n_conditions, n, n_state), read with bounds
    (the header is checked against the file's size and the memory budget before any data is
    read; pickled objects never load). Errors name ``flag``, the file and what it holds."""
    from .core._archive import load_npy

    path = Path(path)
    if not path.is_file():
        raise CliError(f"{flag}: no such file {str(path)!r}")
    if path.suffix.lower() != ".npy":
        raise CliError(f"{flag}: expected a .npy file of states, received {str(path)!r}")
    arr = _input_stage(load_npy, path, argument=flag)
    expected = (f"expected an array of shape (n, n_state={n_state}) or (n_conditions="
                f"{n_conditions}, n, {n_state})")
    if arr.dtype.kind not in "biuf":
        raise CliError(f"{flag}: {str(path)!r} holds an array of dtype {arr.dtype} and shape "
                       f"{arr.shape}; {expected} of numbers")
    if arr.ndim not in (2, 3) or arr.shape[-1] != n_state or arr.shape[-2] == 0 or (
            arr.ndim == 3 and arr.shape[0] != n_conditions):
        raise CliError(f"{flag}: {str(path)!r} holds an array of shape {arr.shape} "
                       f"({arr.dtype}); {expected}, at least one state")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise CliError(f"{flag}: {str(path)!r} holds {int(np.sum(~np.isfinite(arr)))} "
                       "non-finite value(s) (NaN or inf); every state must be finite")
    return arr


def run_warmup(args) -> int:
    """``warmup``: compile the kernels that the chosen analyses need, on tiny models."""
    from .dynamics import warmup
    from .dynamics._warmup import WARMUP_CELLS

    cells = WARMUP_CELLS if args.cells is None else _csv(args.cells, str, "--cells")
    unknown = [c for c in cells if c not in WARMUP_CELLS]
    if unknown or not cells:
        raise CliError(f"--cells: expected names from {', '.join(WARMUP_CELLS)}, received "
                       f"{args.cells!r}")
    names = _csv(args.analyses, str, "--analyses")
    if names == ("none",):
        names = ()
    unknown = [n for n in names if n not in _WARMUP_ANALYSES]
    if unknown:
        raise CliError(f"--analyses: expected names from {', '.join(_WARMUP_ANALYSES)} (or "
                       f"none), received {', '.join(map(repr, unknown))}")
    result = warmup(cells=cells, analyses=[_warmup_analysis(n) for n in names],
                    progress=not args.no_progress)
    if not args.quiet:
        print(result.summary())
        order = np.argsort(-result.seconds, kind="stable")
        for i in order:
            print(f"  {result.seconds[i]:6.1f} s  {result.kernels[i]}")
    return 0


def _warmup_analysis(name):
    """The analysis that ``warmup --analyses NAME`` runs on each tiny model (small sizes: the
    kernels compiled do not depend on them; warnings about the random tiny models muted)."""
    import warnings

    import attractorkit as ak

    calls = {
        "analyze": lambda m, x: ak.analyze(m, x, n_init=2, n_steps=60, n_transient=10,
                                           n_fixed_point_init=4, rng=0),
        "fixed-points": lambda m, x: ak.find_fixed_points(m, x, n_init=4, rng=0),
        "census": lambda m, x: ak.attractor_census(m, x, n_init=2, n_steps=60,
                                                   n_transient=10, rng=0),
    }

    def run(model, inputs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            calls[name](model, inputs)

    return run


def run_report(args) -> int:
    from .analysis._result import Analysis
    from .core._errors import AttractorKitError

    src = Path(args.result)
    if not src.exists():
        raise CliError(f"{src}: no such result directory or file")
    path = src / RESULT_NAME if src.is_dir() else src
    if not path.is_file():
        raise CliError(f"{src}: holds no {RESULT_NAME}; write one with 'attractorkit analyze'")
    target = Path(args.out) if args.out else path.parent / REPORT_NAME
    if target.suffix.lower() not in (".html", ".htm"):
        target = target.with_name(target.name + ".html")
    out = _output_dir(target.parent, "--out", names=(target.name,))
    try:
        result = Analysis.load(path)
    except AttractorKitError as exc:
        raise CliError(_one_line(exc), code=2) from None
    try:
        written = result.report(out / target.name, title=args.title)
    except (OSError, ValueError) as exc:
        raise CliError(f"writing the report failed: {_one_line(exc)}", code=1) from None
    print(f"wrote {written}")
    return 0


# -- entry point -------------------------------------------------------------------------------
def main(argv=None) -> int:
    """Run the command line; returns the exit status (the console script exits with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "accepts_any_arguments", False):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors exit 2
        return int(exc.code or 0)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="attractorkit: %(levelname)s: %(message)s")
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.command in _EXTERNAL and getattr(args, "out", None) is not None \
                and not getattr(args, "dump_config", False):
            out = _output_dir(args.out, "--out")  # before any training starts
            args.out = out if isinstance(args.out, Path) else str(out)
        code = args.func(args)
    except CliError as exc:
        if args.debug:
            raise
        print(f"attractorkit: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("attractorkit: interrupted", file=sys.stderr)
        return 130
    except _bad_input_errors() as exc:  # a subcommand's argument check: bad input, exit 2
        if args.debug:
            raise
        print(f"attractorkit: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one line for a shell user; --debug for the rest
        if args.debug:
            raise
        print(f"attractorkit: error: {type(exc).__name__}: {_one_line(exc)} (run with --debug "
              "for the traceback)", file=sys.stderr)
        return 1
    return int(code or 0)


def _bad_input_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean "the command line or a file it names is wrong" (exit 2)."""
    from .core._errors import ModelTypeError, ResultFileError, ValidationError

    return (ValidationError, ModelTypeError, ResultFileError)


def _one_line(exc) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _version() -> str:
    import attractorkit

    return attractorkit.__version__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
