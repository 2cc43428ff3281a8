"""Frozen task inputs for the attractor analyses, built from the task's own encoding.

The analyses treat each trial period as an autonomous system whose input is frozen at its
noise-free mean (the authors' precursor paper does the same). A grid point is a pair of
*signed* coherences (c1, c2), one per modality, in percent: modality m shows
``0.5 + cos(theta_j) * c_m / 200`` on ring channel j, i.e. its stimulus points at choice 1 for
c_m > 0 and directly away from it for c_m < 0 (for two choices: at choice 2). For two choices
this is exactly the task's trial encoding of direction ``1 if c >= 0 else 2`` and coherence
``|c|``; tests check it against :meth:`ContextDecisionMaking.sample`.
"""

from __future__ import annotations

import numpy as np

from attractorkit.reference_models.task import ContextDecisionMaking, TaskConfig

__all__ = ["coherence_axis", "stimulus_inputs", "period_input", "relevant_coherence",
           "period_lengths"]


def coherence_axis(coherence_max: float, n: int) -> np.ndarray:
    """The signed coherences (percent) of one grid axis, symmetric around 0."""
    return np.linspace(-coherence_max, coherence_max, n)


def _ring(task: TaskConfig) -> np.ndarray:
    n = task.n_choices
    return np.cos(np.linspace(0, 2 * np.pi, n + 1)[:-1])


def _base(task: TaskConfig, context: int, *, fixation: bool) -> np.ndarray:
    x = np.zeros(task.n_input)
    x[0] = 1.0 if fixation else 0.0
    if task.context_cue:
        x[1 + 2 * task.n_choices + (context - 1)] = 1.0
    return x


def stimulus_inputs(task: TaskConfig, context: int, c1, c2) -> np.ndarray:
    """Noise-free stimulus-period inputs for signed coherences ``c1``, ``c2`` (broadcast).

    Returns an array of shape ``broadcast(c1, c2).shape + (n_input,)``.
    """
    c1, c2 = np.broadcast_arrays(np.asarray(c1, float), np.asarray(c2, float))
    ring = _ring(task)
    fix_on = task.fixation_cue == "until_decision"
    x = np.broadcast_to(_base(task, context, fixation=fix_on), c1.shape + (task.n_input,)).copy()
    n = task.n_choices
    x[..., 1:1 + n] = 0.5 + ring * c1[..., None] / 200.0
    x[..., 1 + n:1 + 2 * n] = 0.5 + ring * c2[..., None] / 200.0
    return x


def period_input(task: TaskConfig, context: int, period: str) -> np.ndarray:
    """The noise-free input of the fixation, delay or decision period (no stimulus shown)."""
    if period not in ("fixation", "delay", "decision"):
        raise ValueError(f"period: expected 'fixation', 'delay' or 'decision', got {period!r}")
    if period == "decision":
        return _base(task, context, fixation=False)
    fix_on = period == "fixation" or task.fixation_cue == "until_decision"
    return _base(task, context, fixation=fix_on)


def relevant_coherence(context: int, c1, c2):
    """The coherence the context makes relevant (modality 1 in context 1, else modality 2)."""
    return c1 if context == 1 else c2


def period_lengths(task: TaskConfig) -> tuple[int, int]:
    """Steps of the fixation and stimulus periods."""
    n_fix, n_stim, _, _ = ContextDecisionMaking(task).period_steps(np.zeros(1))
    return int(n_fix), int(n_stim)
