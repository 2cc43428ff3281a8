"""The public training API shared by the supervised and reinforcement trainers.

``train(TrainConfig(...))`` builds the task and the network, seeds everything, runs the
paradigm's loop (``train_sl.py`` or ``train_rl.py``, each readable top to bottom), evaluates
greedy accuracy on fresh trials every ``eval_every`` updates, stops at the criterion or a cap,
and writes checkpoints (safetensors + JSON) along the way.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch

from attractorkit.core._errors import ValidationError
from attractorkit.core._files import write_text
from attractorkit.core._validation import check_choice, check_int, check_positive

from .networks import ReLURNN, load_network, save_network
from .packed import PackedTrials
from .task import ContextDecisionMaking, TaskConfig, task_preset

__all__ = ["TrainConfig", "TrainResult", "train", "load_checkpoint", "evaluate", "TRAIN_PRESETS"]

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run; validated at construction.

    The run is a function of this configuration: the same config gives bitwise-identical
    checkpoints on the same machine, torch version and thread count (CPU).

    Parameters (by group)
    ---------------------
    paradigm : {"sl", "rl"}; delta : initialisation half-width of W, U, b; seed : int >= 0;
    n_hidden : units; task : preset name (see ``TASK_PRESETS``) or TaskConfig.
    criterion : stop when greedy accuracy on ``eval_trials`` fresh trials reaches it;
    max_updates : cap on parameter updates; max_seconds : optional wall-time cap (makes the
    stopping point machine-dependent); eval_every : updates between evaluations;
    checkpoint_every : updates between checkpoints (a multiple of eval_every; 0 = only the
    initial and final networks); device : torch device; num_threads : torch CPU threads during
    the run (None leaves torch's setting).
    lr, grad_clip : Adam learning rate and gradient-norm clip (both paradigms).
    SL: batch_trials (whole trials per update), decision_weight (loss weight of decision steps).
    RL (PPO): rollout_trials (parallel trials per rollout), ppo_epochs, minibatch_trials,
    gamma, gae_lambda, clip_coef, ent_coef, vf_coef; critic_detached: the critic reads the
    hidden state without passing gradients into the recurrent weights (W, U, b), so that only
    the policy gradient shapes the dynamics (the study's ablation); sl_schedule: "single" (one
    Adam step on batch_trials fresh trials per update) or "ppo" (PPO's schedule: rollout_trials
    fresh trials, ppo_epochs passes over minibatch_trials minibatches, one step each).
    """

    paradigm: str = "sl"
    delta: float = 0.1
    seed: int = 0
    n_hidden: int = 250
    task: str | TaskConfig = "default"
    criterion: float = 0.95
    max_updates: int = 20_000
    max_seconds: float | None = None
    eval_every: int = 25
    eval_trials: int = 1000
    checkpoint_every: int = 0
    device: str = "cpu"
    num_threads: int | None = 1
    lr: float = 1e-3
    grad_clip: float = 1.0
    batch_trials: int = 32
    decision_weight: float = 5.0
    rollout_trials: int = 128
    ppo_epochs: int = 4
    minibatch_trials: int = 32
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    critic_detached: bool = False
    sl_schedule: str = "single"

    def __post_init__(self):
        check_choice("paradigm", self.paradigm, ("sl", "rl"))
        check_positive("delta", self.delta)
        check_int("seed", self.seed, minimum=0)
        check_int("n_hidden", self.n_hidden, minimum=1)
        if isinstance(self.task, Mapping):
            object.__setattr__(self, "task", TaskConfig.from_dict(self.task))
        task_preset(self.task)
        if not 0 < self.criterion <= 1:
            raise ValidationError(f"criterion: expected a number in (0, 1], "
                                  f"received {self.criterion!r}")
        check_int("max_updates", self.max_updates, minimum=1)
        if self.max_seconds is not None:
            check_positive("max_seconds", self.max_seconds)
        check_int("eval_every", self.eval_every, minimum=1)
        check_int("eval_trials", self.eval_trials, minimum=1)
        check_int("checkpoint_every", self.checkpoint_every, minimum=0)
        if self.checkpoint_every % self.eval_every:
            raise ValidationError(
                f"checkpoint_every: expected a multiple of eval_every={self.eval_every} (each "
                f"checkpoint records an evaluated accuracy), received {self.checkpoint_every}")
        if self.num_threads is not None:
            check_int("num_threads", self.num_threads, minimum=1)
        try:
            torch.device(self.device)
        except (RuntimeError, TypeError):
            raise ValidationError(f"device: expected a torch device such as 'cpu' or 'cuda', "
                                  f"received {self.device!r}") from None
        for name in ("lr", "grad_clip", "decision_weight", "clip_coef"):
            check_positive(name, getattr(self, name))
        for name in ("ent_coef", "vf_coef"):
            check_positive(name, getattr(self, name), strict=False)
        for name in ("gamma", "gae_lambda"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                raise ValidationError(f"{name}: expected a number in [0, 1], received {v!r}")
        check_choice("sl_schedule", self.sl_schedule, ("single", "ppo"))
        if not isinstance(self.critic_detached, bool):
            raise ValidationError(f"critic_detached: expected a bool, received "
                                  f"{self.critic_detached!r}")
        for name in ("batch_trials", "rollout_trials", "ppo_epochs", "minibatch_trials"):
            check_int(name, getattr(self, name), minimum=1)
        if self.minibatch_trials > self.rollout_trials:
            raise ValidationError(
                f"minibatch_trials: expected <= rollout_trials={self.rollout_trials}, "
                f"received {self.minibatch_trials}")

    @property
    def trials_per_update(self) -> int:
        """Fresh trials drawn per update."""
        if self.paradigm == "sl" and self.sl_schedule == "single":
            return self.batch_trials
        return self.rollout_trials

    @property
    def task_config(self) -> TaskConfig:
        return task_preset(self.task)

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["task"] = self.task if isinstance(self.task, str) else self.task.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> TrainConfig:
        return cls(**dict(d))

    @classmethod
    def preset(cls, name: str, **overrides) -> TrainConfig:
        """A named preset (``"quick"`` or ``"paper"``) with paradigm-specific settings;
        ``overrides`` (including ``paradigm``) replace any field."""
        check_choice("name", name, tuple(TRAIN_PRESETS))
        paradigm = overrides.get("paradigm", "sl")
        check_choice("paradigm", paradigm, ("sl", "rl"))
        fields = {**TRAIN_PRESETS[name]["common"], **TRAIN_PRESETS[name][paradigm]}
        fields.update(overrides)
        every, ckpt = fields.get("eval_every", 25), fields["checkpoint_every"]
        if "checkpoint_every" not in overrides and isinstance(every, int) and every > 0:
            fields["checkpoint_every"] = -(-ckpt // every) * every  # keep it a multiple
        return cls(**fields)


#: presets: "quick" (small network, minutes on 2 cores) and "paper" (N = 250)
TRAIN_PRESETS: dict[str, dict] = {
    "quick": {"common": {"n_hidden": 128, "eval_every": 20, "checkpoint_every": 100},
              "sl": {"lr": 3e-3, "max_updates": 8000},
              "rl": {"lr": 3e-3, "max_updates": 1500}},
    "paper": {"common": {"n_hidden": 250, "eval_every": 25, "checkpoint_every": 250},
              "sl": {"lr": 1e-3, "max_updates": 20_000},
              "rl": {"lr": 1e-3, "max_updates": 10_000}},
}


@dataclasses.dataclass(frozen=True, eq=False)
class TrainResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    network : ReLURNN (the final network, at the last evaluation); accuracy : its greedy accuracy
    on fresh trials; reached_criterion : bool; updates : parameter updates done; wall_time : s;
    history : dict of arrays, one entry per evaluation (keys "update", "accuracy",
    "abort_rate", "loss", "trials", "env_steps", "time_s", "cpu_s" (process CPU time));
    checkpoints : list of paths (empty
    without ``out``); config : the TrainConfig.
    """

    network: ReLURNN
    accuracy: float
    reached_criterion: bool
    updates: int
    wall_time: float
    history: dict
    checkpoints: list
    config: TrainConfig

    def summary(self) -> str:
        c = self.config
        state = "reached" if self.reached_criterion else "did not reach"
        return (f"TrainResult: {c.paradigm.upper()} N={c.n_hidden} delta={c.delta} seed={c.seed} "
                f"{state} {c.criterion:.0%}: accuracy {self.accuracy:.3f} after {self.updates} "
                f"updates in {self.wall_time:.1f} s; {len(self.checkpoints)} checkpoints")


def adam(net: ReLURNN, lr: float) -> torch.optim.Adam:
    """The trainers' optimiser: Adam with PyTorch's fused kernel where it exists (CPU, CUDA),
    the same update as the default implementation in a few fused passes."""
    fused = next(net.parameters()).device.type in ("cpu", "cuda")
    return torch.optim.Adam(net.parameters(), lr=lr, fused=fused or None)


def clip_grad_norm(params, max_norm: float) -> torch.Tensor:
    """``torch.nn.utils.clip_grad_norm_`` (2-norm over all gradients, scaled by
    ``min(1, max_norm / (norm + 1e-6))``), the same arithmetic in six tensor operations:
    the library version's bookkeeping cost about 4% of an SL update. Returns the norm."""
    grads = [p.grad for p in params if p.grad is not None]
    norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    torch._foreach_mul_(grads, (max_norm / (norm + 1e-6)).clamp(max=1.0))
    return norm


def evaluate(net: ReLURNN, task: ContextDecisionMaking, n_trials: int, rng) -> dict:
    """Greedy (argmax) behaviour on ``n_trials`` fresh trials: accuracy and abort rate."""
    batch = task.sample(n_trials, rng)
    dev = next(net.parameters()).device
    packing = PackedTrials(batch.lengths, batch.mask.shape[1], device=dev)
    with torch.no_grad():
        _, logits, _ = net.forward_packed(
            torch.from_numpy(packing.pack(batch.observations)).to(dev), packing)
    out = task.score(batch, packing.unpack(logits.argmax(-1)).cpu().numpy())
    return {"accuracy": out.accuracy, "abort_rate": float(out.aborted.mean())}


def load_checkpoint(path, *, device="cpu") -> tuple[ReLURNN, dict]:
    """Load a checkpoint written by :func:`train`: ``(network, metadata)``.

    ``metadata`` holds ``config`` (a TrainConfig dict), ``seed``, ``update``, ``accuracy``,
    ``reached_criterion`` and the task configuration. ``path`` may be the ``.safetensors`` or
    ``.json`` file or their stem.
    """
    return load_network(path, device=device)


def train(config: TrainConfig, *, out=None, progress: bool = False) -> TrainResult:
    """Train one network to criterion (or a cap).

    Parameters
    ----------
    config : TrainConfig
    out : path-like or None
        Directory for ``model.safetensors``/``model.json`` (final), ``checkpoints/`` and
        ``history.json``. Nothing is written when None.
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    TrainResult
    """
    if not isinstance(config, TrainConfig):
        raise ValidationError(f"config: expected a TrainConfig, received {type(config).__name__}")
    import importlib

    loop = importlib.import_module(f".train_{config.paradigm}", __package__).run
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    warn = torch.is_deterministic_algorithms_warn_only_enabled()
    try:
        if config.num_threads is not None:
            torch.set_num_threads(config.num_threads)
        # CPU: bitwise determinism. CUDA: deterministic kernels where they exist, a warning
        # (not an error) where they do not (cuBLAS would need CUBLAS_WORKSPACE_CONFIG)
        torch.use_deterministic_algorithms(
            True, warn_only=torch.device(config.device).type != "cpu")
        session = Session(config, out=out, progress=progress)
        loop(config, session)
        return session.result()
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=warn)


class Session:
    """Shared machinery of a run: seeding, evaluation, checkpoints, history, stopping."""

    def __init__(self, config: TrainConfig, *, out=None, progress=False):
        self.config = c = config
        self.task = ContextDecisionMaking(c.task_config)
        # one seeding block: independent streams for training trials, evaluation trials and
        # the torch-side randomness (action sampling, minibatch order)
        train_ss, eval_ss, torch_ss = np.random.SeedSequence([c.seed, 7]).spawn(3)
        self.rng_train = np.random.default_rng(train_ss)
        self.rng_eval = np.random.default_rng(eval_ss)
        self.torch_gen = torch.Generator().manual_seed(int(torch_ss.generate_state(1)[0]))
        self.device = torch.device(c.device)
        self.net = ReLURNN(self.task.n_input, c.n_hidden, self.task.n_actions, delta=c.delta,
                           critic=c.paradigm == "rl", seed=c.seed).to(self.device)
        self.optimizer = adam(self.net, c.lr)
        self.out = None if out is None else Path(out)
        self.history = {k: [] for k in ("update", "accuracy", "abort_rate", "loss", "trials",
                                        "env_steps", "time_s", "cpu_s")}
        self.checkpoints: list[str] = []
        self.trials = self.env_steps = 0
        self.update = 0
        self.losses: list[float] = []
        self.reached = False
        self.accuracy = float("nan")
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()
        self.bar = None
        if progress:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=c.max_updates, desc=f"{c.paradigm} seed {c.seed}", unit="upd")

    def updates(self):
        """Yield update numbers 1, 2, ...; evaluate, checkpoint and stop in between."""
        c = self.config
        if self._evaluate():
            return
        for u in range(1, c.max_updates + 1):
            yield u
            self.update = u
            if self.bar is not None:
                self.bar.update(1)
            over_time = c.max_seconds is not None and (
                time.perf_counter() - self.t0 > c.max_seconds)
            if u % c.eval_every == 0 or u == c.max_updates or over_time:
                if self._evaluate() or over_time:
                    return

    def record(self, loss: float, trials: int, env_steps: int) -> None:
        self.losses.append(float(loss))
        self.trials += int(trials)
        self.env_steps += int(env_steps)

    def _evaluate(self) -> bool:
        c = self.config
        self.net.eval()
        ev = evaluate(self.net, self.task, c.eval_trials, self.rng_eval)
        self.net.train()
        self.accuracy = ev["accuracy"]
        self.reached = self.accuracy >= c.criterion
        h = self.history
        h["update"].append(self.update)
        h["accuracy"].append(self.accuracy)
        h["abort_rate"].append(ev["abort_rate"])
        h["loss"].append(float(np.mean(self.losses)) if self.losses else float("nan"))
        h["trials"].append(self.trials)
        h["env_steps"].append(self.env_steps)
        h["time_s"].append(time.perf_counter() - self.t0)
        h["cpu_s"].append(time.process_time() - self.c0)
        self.losses = []
        log.info("%s seed %d update %d: accuracy %.3f", c.paradigm, c.seed, self.update,
                 self.accuracy)
        if self.bar is not None:
            self.bar.set_postfix(acc=f"{self.accuracy:.3f}")
        if self.out is not None and (
                self.update == 0 or (c.checkpoint_every and self.update % c.checkpoint_every == 0)):
            self._save(self.out / "checkpoints" / f"update_{self.update:06d}")
        return self.reached

    def metadata(self) -> dict:
        c = self.config
        return {"config": c.to_dict(), "task_config": c.task_config.to_dict(),
                "paradigm": c.paradigm, "delta": c.delta, "seed": c.seed, "update": self.update,
                "accuracy": self.accuracy, "reached_criterion": self.reached,
                "trials": self.trials, "env_steps": self.env_steps,
                "torch_version": torch.__version__}

    def _save(self, stem: Path) -> None:
        path = save_network(self.net, stem, self.metadata())
        self.checkpoints.append(str(path))

    def result(self) -> TrainResult:
        wall = time.perf_counter() - self.t0
        if self.bar is not None:
            self.bar.close()
        if self.out is not None:
            last = f"update_{self.update:06d}.safetensors"
            if not self.checkpoints or not self.checkpoints[-1].endswith(last):
                self._save(self.out / "checkpoints" / f"update_{self.update:06d}")
            save_network(self.net, self.out / "model", {**self.metadata(), "wall_time_s": wall})
            write_text(self.out, "history.json", json.dumps(self.history, indent=1))
        history = {k: np.asarray(v) for k, v in self.history.items()}
        return TrainResult(network=self.net, accuracy=self.accuracy,
                           reached_criterion=self.reached, updates=self.update, wall_time=wall,
                           history=history, checkpoints=list(self.checkpoints),
                           config=self.config)
