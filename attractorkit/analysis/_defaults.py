"""The defaults of :func:`attractorkit.analyze` (one place; the docs link here)."""

#: Defaults of :func:`analyze`, chosen so that a 250-unit model on a 10 x 10 input grid
#: finishes in about a minute on two cores. Every one can be overridden by keyword.
DEFAULTS = {
    "n_init": 8,            # initial states per input condition (census, Lyapunov)
    "n_steps": 1000,        # recorded steps per initial state (census, Lyapunov)...
    "n_transient": 1000,    # ...after this many transient steps
    "n_fixed_point_init": 32,   # seeds per condition for the fixed-point search
    "n_lyapunov_steps": 500,    # steps of the Lyapunov pass after the census
    "n_exponents": 3,       # leading Lyapunov exponents
    "cycle_periods": (2,),  # periods searched in maps (flows: none)
    "n_showcase": 8,        # trajectories kept (in PCA coordinates) for the plots...
    "n_showcase_conditions": 4,     # ...from this many conditions
    "n_showcase_steps": 600,
    "n_components": 3,
}
