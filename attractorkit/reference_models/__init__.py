"""Reference models (imported as ``attractorkit.reference_models``).

The context-dependent decision-making task (vectorised, NeuroGym-compatible), the vanilla ReLU
RNN of the study, and its supervised (Adam) and reinforcement (recurrent PPO) trainers::

    from attractorkit.reference_models import TrainConfig, train
    result = train(TrainConfig.preset("quick", paradigm="sl", delta=0.1, seed=0))
    model = result.network.to_model()          # an attractorkit Model (numba kernel)

PyTorch and safetensors are needed (``pip install 'attractorkit[study]'``); names are imported
lazily so that the task alone works with numpy.
"""

from __future__ import annotations

import importlib

_LAZY = {
    # task
    "TaskConfig": "task",
    "TruncExp": "task",
    "ContextDecisionMaking": "task",
    "TrialBatch": "task",
    "Outcome": "task",
    "TASK_PRESETS": "task",
    "COMPLEXITY_PRESETS": "task",
    "task_preset": "task",
    "ideal_observer_two_choice": "task",
    "ContextDecisionMakingEnv": "env",
    # networks
    "ReLURNN": "networks",
    "save_network": "networks",
    "load_network": "networks",
    # training
    "TrainConfig": "training",
    "TrainResult": "training",
    "TRAIN_PRESETS": "training",
    "train": "training",
    "evaluate": "training",
    "load_checkpoint": "training",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'attractorkit.reference_models' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
