"""The ``train`` subcommand: ``attractorkit train --paradigm rl|sl --delta 0.1 --seed 3
--preset quick|paper --out DIR``.

The main ``attractorkit`` command calls :func:`register`; ``python -m
attractorkit.reference_models.cli train ...`` runs the same command standalone. Writes
``DIR/model.safetensors`` + ``DIR/model.json`` (the final network; the JSON records the greedy
evaluation accuracy under ``accuracy``), ``DIR/checkpoints/`` and ``DIR/history.json``, and
prints the final metadata as JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

__all__ = ["register", "main_train", "main"]

_OVERRIDES = {  # option -> (TrainConfig field, type, help)
    "--task": ("task", str, "task preset: neurogym, default, lowcoh, choices3, choices4"),
    "--n-hidden": ("n_hidden", int, "number of hidden units (preset: quick 128, paper 250)"),
    "--max-updates": ("max_updates", int, "cap on parameter updates"),
    "--max-seconds": ("max_seconds", float, "cap on wall time (s)"),
    "--eval-every": ("eval_every", int, "updates between evaluations"),
    "--eval-trials": ("eval_trials", int, "fresh trials per evaluation"),
    "--checkpoint-every": ("checkpoint_every", int,
                           "updates between checkpoints (multiple of --eval-every; 0: none)"),
    "--criterion": ("criterion", float, "accuracy at which training stops (default 0.95)"),
    "--lr": ("lr", float, "Adam learning rate"),
    "--device": ("device", str, "torch device (default cpu; e.g. cuda)"),
    "--threads": ("num_threads", int, "torch CPU threads (default 1)"),
}


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``train`` subcommand to an argparse ``subparsers`` object."""
    p = subparsers.add_parser(
        "train", help="train a reference network on the context-dependent decision task",
        description="Train a vanilla ReLU RNN on the context-dependent decision-making task "
                    "with supervised learning (Adam, cross-entropy) or reinforcement learning "
                    "(recurrent PPO) until its greedy accuracy on fresh trials reaches the "
                    "criterion or a cap.")
    p.add_argument("--paradigm", choices=("rl", "sl"), required=True)
    p.add_argument("--delta", type=float, default=0.1,
                   help="initialisation half-width of W, U, b (default 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--preset", choices=("quick", "paper"), default="quick",
                   help="quick: N=128, minutes; paper: N=250 (default quick)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="output directory (default: nothing written)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    for flag, (_field, typ, text) in _OVERRIDES.items():
        p.add_argument(flag, type=typ, default=None, help=text)
    p.set_defaults(func=main_train)
    return p


def main_train(args) -> int:
    """Run ``train`` for parsed arguments; prints the final metadata as JSON; returns 0."""
    from .training import TrainConfig, train

    overrides = {field: getattr(args, flag[2:].replace("-", "_"))
                 for flag, (field, _t, _h) in _OVERRIDES.items()}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    config = TrainConfig.preset(args.preset, paradigm=args.paradigm, delta=args.delta,
                                seed=args.seed, **overrides)
    result = train(config, out=args.out, progress=not args.no_progress)
    meta = {"paradigm": config.paradigm, "delta": config.delta, "seed": config.seed,
            "preset": args.preset, "accuracy": result.accuracy,
            "reached_criterion": result.reached_criterion, "updates": result.updates,
            "wall_time_s": round(result.wall_time, 3), "out": args.out,
            "checkpoints": len(result.checkpoints)}
    print(json.dumps(meta))
    return 0


def main(argv=None) -> int:
    """Standalone entry point: ``python -m attractorkit.reference_models.cli train ...``."""
    from attractorkit.core._errors import ValidationError

    parser = argparse.ArgumentParser(prog="python -m attractorkit.reference_models.cli")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="attractorkit: %(levelname)s: %(message)s")
    try:
        return args.func(args)
    except ValidationError as exc:
        print(f"attractorkit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
