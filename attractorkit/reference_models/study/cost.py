"""What a study costs on this machine, before it runs: ``attractorkit reproduce --dry-run``.

The estimate multiplies measured unit costs by counts:

- **training**: the CPU time of one update of each paradigm and of one evaluation, measured
  here (a few updates of a network of the study's size), times the expected number of updates
  and evaluations. The expected updates come from :data:`TRIALS_TO_CRITERION`, the trials
  that networks needed in measured runs (median, and the share that missed the criterion and
  ran to the cap); a level or size without measurements is costed at the cap;
- **analysis**: the CPU time per grid point of a census, measured here on an untrained network
  of every delta (the untrained control is exactly that), times the grid points of the
  untrained census; a trained network's census (default and threshold variants, and the trial
  conditions of the relevance analysis) costs per grid point :data:`TRAINED_SIM_FACTOR` times
  the CPU time of simulating one run of ``n_transient + n_steps`` steps here, plus
  :data:`TRAINED_FIXED_SECONDS` (the evidence gathered per run; scaled by this machine's speed
  relative to the reference machine), fitted to the census times of trained networks measured
  at N = 64 and N = 250 (0.009 and 0.04 s per grid point); plus the measured cost of the other
  analyses (MI, populations, examples);
- **memory**: the peak resident memory of this process after the probes (the imports, one
  network and one census, as in a worker), per worker process;
- **start-up**: each worker's imports, taken as this process's CPU time before the probes. A
  first run on a machine also compiles the numba kernels once (about 100 CPU-s per worker
  process running at the time); the estimate leaves that out.

The probes take about 10 s to a minute (most of it the census at the largest delta).
"""

from __future__ import annotations

import dataclasses
import resource
import sys
import time

import numpy as np

__all__ = ["CostEstimate", "estimate", "TRIALS_TO_CRITERION", "TRAINED_SIM_FACTOR",
           "TRAINED_FIXED_SECONDS"]

#: measured trials to criterion: (paradigm, level) -> {n_hidden: (median trials, share that
#: missed the criterion)}; N = 64 from the quick study (30 runs), N = 250 from the standard
#: pilot (28 runs, 2 initialisations per cell), both on 2026-12-06 (docs/study.md §7)
TRIALS_TO_CRITERION = {
    ("sl", "default"): {64: (28_000, 0.17), 250: (29_000, 0.0)},
    ("rl", "default"): {64: (23_000, 0.0), 250: (18_000, 0.0)},
    ("sl", "noisy"): {64: (38_000, 0.17), 250: (27_000, 0.0)},
    ("rl", "noisy"): {64: (24_000, 0.0), 250: (13_000, 0.0)},
    ("rl_matched", "default"): {64: (35_000, 0.67), 250: (28_000, 0.5)},
    ("sl_matched", "default"): {64: (6_400, 0.0), 250: (7_000, 0.0)},
}
#: census CPU time per grid point of a trained network: TRAINED_SIM_FACTOR x the simulation of
#: one run + TRAINED_FIXED_SECONDS x (speed of this machine / the reference machine's)
TRAINED_SIM_FACTOR = 2.6
TRAINED_FIXED_SECONDS = 0.0074
#: CPU s per step of one N = 64 run under ak.simulate on the reference machine (the speed unit)
REFERENCE_STEP_64 = 9.07e-7


@dataclasses.dataclass(frozen=True)
class CostEstimate:
    """The runs of a study and what they cost on this machine (see the module docstring)."""

    runs: int
    cpu_hours: float
    cpu_hours_worst: float
    wall_hours: float
    n_jobs: int
    peak_memory_mb: float
    per_run_seconds: dict
    unit_costs: dict

    def summary(self) -> str:
        lines = [f"{self.runs} runs; estimated {self.cpu_hours:.2f} CPU-hours "
                 f"({self.cpu_hours * 3600:.0f} CPU-s; {self.cpu_hours_worst:.2f} CPU-hours if "
                 f"every run trains to its cap); "
                 f"{self.wall_hours:.2f} h of wall time on {self.n_jobs} process(es); "
                 f"peak memory about {self.peak_memory_mb:.0f} MB "
                 f"({self.peak_memory_mb / max(self.n_jobs, 1):.0f} MB per process)"]
        for key, sec in sorted(self.per_run_seconds.items()):
            lines.append(f"  {key}: {sec:.1f} CPU-s per run (mean over its seeds)")
        lines.append("  unit costs measured here: " + ", ".join(
            f"{k} {v:.4g}" for k, v in sorted(self.unit_costs.items())))
        return "\n".join(lines)


def _cpu():
    return time.process_time()


def _train_probe(config, paradigm: str, level: str, k: int) -> tuple[float, float, int]:
    """(CPU s per update, CPU s per evaluation, trials per update) of a run of the study."""
    import dataclasses as dc

    from attractorkit.reference_models.training import Session, evaluate

    from .analysis import train_config
    from .runner import RunSpec

    tc = train_config(config, RunSpec(paradigm, float(config.deltas[0]), level, 0))
    tc = dc.replace(tc, max_updates=k, eval_every=k, checkpoint_every=0, criterion=1.0)
    import importlib

    loop = importlib.import_module(f"attractorkit.reference_models.train_{tc.paradigm}").run
    session = Session(tc)
    t0 = _cpu()
    evaluate(session.net, session.task, tc.eval_trials, np.random.default_rng(0))
    t_eval = _cpu() - t0
    t0 = _cpu()
    loop(tc, session)
    t_loop = _cpu() - t0 - 2 * t_eval          # the loop evaluates at update 0 and at the end
    per = tc.trials_per_update
    return max(t_loop, 1e-6) / k, t_eval, per


def _census_probe(config, level: str, delta: float, n_points: int = 8) -> float:
    """CPU s per grid point of the census of an untrained network at ``delta`` (its spectral
    radius is about delta * sqrt(N / 3))."""
    import attractorkit as ak
    from attractorkit.reference_models.networks import ReLURNN

    from . import inputs as inp
    from .analysis import onset_state, task_config

    task = task_config(config, level)
    a = config.analysis
    model = ReLURNN(task.n_input, config.n_hidden, task.n_actions, delta=delta,
                    seed=1).to_model()
    c = np.linspace(-a.coherence_max, a.coherence_max, n_points)
    x = inp.stimulus_inputs(task, 1, c, c[::-1])
    init = onset_state(model, task, 1)[None]
    # the first census of a process loads the compiled kernels: not a per-point cost
    ak.attractor_census(model, x[:1], initial_states=init, n_init=1, n_steps=50,
                        n_transient=10, max_extensions=0, rng=0)
    t0 = _cpu()
    ak.attractor_census(model, x, initial_states=init, n_init=1, n_steps=a.n_steps,
                        n_transient=a.n_transient, max_extensions=a.max_extensions, rng=0)
    return (_cpu() - t0) / n_points


def _simulate_probe(n_hidden: int, steps: int, n_runs: int = 50) -> float:
    """CPU s of simulating one run of ``steps`` steps of an N = ``n_hidden`` ReLU network."""
    import attractorkit as ak
    from attractorkit.reference_models.networks import ReLURNN

    model = ReLURNN(7, n_hidden, 3, delta=0.5 / np.sqrt(n_hidden / 3), seed=0).to_model()
    x = np.full((n_runs, 7), 0.5)
    ak.simulate(model, np.zeros(n_hidden), x, 5)
    t0 = _cpu()
    ak.simulate(model, np.zeros(n_hidden), x, steps)
    return (_cpu() - t0) / n_runs


def _kernel_load(config) -> float:
    """CPU s of a process's first census (numba's compiled kernels loaded from its cache)."""
    import attractorkit as ak
    from attractorkit.reference_models.networks import ReLURNN

    model = ReLURNN(7, 8, 3, delta=0.1, seed=0).to_model()
    t0 = _cpu()
    ak.attractor_census(model, np.full((1, 7), 0.5), n_init=1, n_steps=50, n_transient=10,
                        max_extensions=0, rng=0)
    ak.simulate(model, np.zeros(8), np.full((1, 7), 0.5), 5)
    return _cpu() - t0


def _other_probe(config, level: str) -> float:
    """CPU s of a run's analyses besides the censuses (MI, populations, example orbit)."""
    from attractorkit.reference_models.networks import ReLURNN

    from .analysis import decision_states, population_sets, task_config
    from .pipeline import information

    task = task_config(config, level)
    a = config.analysis
    model = ReLURNN(task.n_input, config.n_hidden, task.n_actions, delta=config.deltas[0],
                    seed=1).to_model()
    t0 = _cpu()
    states, _ = decision_states(model, task, a)
    pops = population_sets(states, a.active_threshold)
    information(model, task, a, pops["codes"], np.random.default_rng(0))
    return _cpu() - t0


def _expected_updates(paradigm, level, n_hidden, cap_updates, per_update) -> tuple[float, float]:
    """(expected, worst-case) updates of one run."""
    table = TRIALS_TO_CRITERION.get((paradigm, level))
    if not table:
        return float(cap_updates), float(cap_updates)
    size = min(table, key=lambda n: abs(np.log(n / n_hidden)))
    median, fail = table[size]
    reached = min(median / per_update, cap_updates)
    return (1 - fail) * reached + fail * cap_updates, float(cap_updates)


def _max_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def estimate(config, *, n_jobs: int = 2) -> CostEstimate:
    """Estimate the CPU time, wall time and memory of ``config`` on this machine."""
    from .analysis import task_config, train_config
    from .measures import trial_conditions
    from .runner import expand_runs, thread_limits

    specs = expand_runs(config)
    a = config.analysis
    startup = _cpu()   # this process's CPU time so far: about a worker's imports
    unit, per_run = {}, {}
    total = worst = 0.0
    with thread_limits(config.threads_per_run):
        startup += _kernel_load(config)
        level0 = config.complexities[0]
        for p in sorted({s.paradigm for s in specs}):
            k = 40 if p == "sl" else 6
            # the smaller of two measurements: CPU time on a shared machine only ever grows
            a_, b_ = (_train_probe(config, p, level0, k) for _ in range(2))
            unit[f"update_{p}"] = min(a_[0], b_[0])
            unit["evaluation"] = min(a_[1], b_[1])
            unit[f"trials_per_update_{p}"] = a_[2]
        for d in config.deltas:
            unit[f"census_point_d{d:g}"] = _census_probe(config, level0, d)
        steps = config.analysis.n_transient + config.analysis.n_steps
        unit["simulate_run"] = _simulate_probe(config.n_hidden, steps)
        unit["speed_ratio"] = _simulate_probe(64, 700) / 700 / REFERENCE_STEP_64
        unit["other_analyses"] = _other_probe(config, level0)
    grid = len(a.contexts) * a.n_coherences ** 2
    trained_point = (TRAINED_SIM_FACTOR * unit["simulate_run"]
                     + TRAINED_FIXED_SECONDS * unit["speed_ratio"])
    for s in specs:
        variants = a.threshold_variants if (a.threshold_seeds == 0
                                            or s.seed < a.threshold_seeds) else ()
        tc = train_config(config, s)
        per = unit[f"trials_per_update_{s.paradigm}"]
        exp_u, cap_u = _expected_updates(s.paradigm, s.complexity, config.n_hidden,
                                         tc.max_updates, per)
        point = unit[f"census_point_d{s.delta:g}"]
        task = task_config(config, s.complexity)
        rel = len(trial_conditions(task)[0]) if (a.relevance and task.n_choices == 2) else 0
        analysis = (trained_point * (grid * (1 + len(variants)) + rel)
                    + (point * grid if a.untrained else 0.0) + unit["other_analyses"])

        def train_cost(u, paradigm=s.paradigm, every=tc.eval_every):
            # updates, plus the evaluations at update 0 and every eval_every updates
            return u * unit[f"update_{paradigm}"] + (u / every + 1) * unit["evaluation"]

        cost = train_cost(exp_u) + analysis
        total += cost
        worst += train_cost(cap_u) + analysis
        key = f"{s.paradigm} {s.complexity} d={s.delta:g}"
        per_run.setdefault(key, []).append(cost)
    jobs = max(1, min(n_jobs, len(specs)))
    unit["worker_start"] = startup
    total += jobs * startup
    worst += jobs * startup
    per_run = {k: float(np.mean(v)) for k, v in per_run.items()}
    return CostEstimate(
        runs=len(specs), cpu_hours=total / 3600, cpu_hours_worst=worst / 3600,
        wall_hours=total / 3600 / jobs, n_jobs=jobs,
        peak_memory_mb=_max_rss_mb() * jobs, per_run_seconds=per_run, unit_costs=unit)
