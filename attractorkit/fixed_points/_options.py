"""The options of :func:`attractorkit.find_fixed_points`, in one frozen dataclass whose defaults
are the one public place the documentation links."""

from __future__ import annotations

import dataclasses

from ..core._errors import ValidationError
from ..core._options import replace_options
from ..core._validation import check_choice, check_int, check_positive

__all__ = ["FixedPointOptions"]


@dataclasses.dataclass(frozen=True)
class FixedPointOptions:
    """Options of :func:`attractorkit.find_fixed_points` (every field is also accepted there as
    a keyword, which overrides the field).

    Seeds
    -----
    n_init : int, default 256
        Seeds per condition.
    noise : float, default 0
        SD of Gaussian noise added to the seeds.
    n_steps : int, default 100
        Steps of the simulated trajectories that seeds are sampled from when no
        ``initial_states`` are given (and of the settling runs, see ``settle``).
    init_scale : float, default 1
        SD of the random starts of those trajectories.

    Solver
    ------
    method : {"newton", "q"}, default "newton"
        Per-point Newton / Levenberg-Marquardt, or Adam on ``q = |G|^2/2`` (Sussillo & Barak
        2013; finds slow points).
    tol : float, default 1e-10
        Newton converges when ``max|G| <= tol * max(1, max|h|)``.
    tol_q : float, default 1e-12
        q-minimisation converges when ``q < tol_q``.
    max_iter : int or None, default None
        Per-point cap (None: 100 for Newton, 5000 for q).
    lr : float, default 0.05
        Initial Adam learning rate (``method="q"``; adapted per point).
    polish : bool, default False
        ``method="q"`` only: finish each point with Newton.
    max_norm : float, default 1e6
        A solve whose ``max|h|`` exceeds this is counted as diverged.
    exact : {"auto", True, False}, default "auto"
        Exact solutions per activation region for single-layer ReLU cells ("auto": with
        ``method="newton"``).
    explore : bool, default True
        Also solve from midpoints between pairs of found points of the same condition (finds
        saddles between attractors that no seed visited).
    settle : bool, default True
        Also run trajectories (from the ends of the seeding trajectories, or from
        ``max(16, n_init // 8)`` of the user's states per condition) for ``n_settle`` more
        steps; where one settles (last step below ``settle_tol`` relative to
        ``max(1, max|h|)``) its end state is polished by Newton. Every stable point a
        trajectory reaches is found, and the summary counts the stable points confirmed so.
        Runs stop early once their step falls below ``settle_tol / 1000`` or they repeat a
        cycle of period at most 8 (which never settles). With ``explore``, runs from each
        saddle along its leading unstable modes (at most three) settle the same way, and
        their end states are polished too.
    n_settle : int, default 200
    settle_tol : float, default 1e-5

    Region
    ------
    region : "auto", None or array_like of shape (2,) or (2, n_state), default "auto"
        Box (lower, upper bounds) outside which solutions are dropped and counted in
        ``FixedPoints.n_outside``. "auto": a margin around the visited states (seeds' pool,
        trajectories) intersected with the bounds the model declares (its ``state_bounds``
        attribute; for standard cells the range of their fixed points: tanh, GRU and LSTM
        hidden states in [-1, 1], ReLU >= 0). None: no region.
    region_margin : float, default 1
        "auto" region: the visited box widened on each side by this times the larger of its
        widest side and its largest ``|h|``.

    Result
    ------
    tol_unique : float or None, default None
        De-duplication radius (max-norm) relative to the state's size: the median ``max|h|``
        of the seeds under each condition (``FixedPoints.scale``), never below a hundred times
        the solver's precision ``tol * max(1, size)``; None: 1e-6, or 1e-3 for unpolished
        ``method="q"``.
    deduplicate : bool, default True
        False keeps one row per seed (see :meth:`FixedPoints.unique`).
    stability : bool, default True
        Linearise every point (eigen-decomposition of its Jacobian).
    delta : float, default 1e-8
        Marginal band of the stability classification (see :func:`linear_stability`).
    n_modes : int, default 3
        Leading eigenvectors kept.
    manifolds : bool, default True
        Group non-isolated points into sets (``FixedPoints.manifolds``; needs ``stability``
        and ``deduplicate``): points with Jacobian eigenvalues within ``manifold_tol`` of the
        stability boundary (maps ``| |lambda| - 1 |``, flows ``|Re lambda| dt``) that the
        dynamics connect (:mod:`attractorkit.fixed_points` docs) form one line, plane, ring
        or slow manifold, kept as at most ``n_represent`` representative rows.
    manifold_tol : float, default 1e-3
    n_represent : int, default 8
    """

    n_init: int = 256
    noise: float = 0.0
    n_steps: int = 100
    init_scale: float = 1.0
    method: str = "newton"
    tol: float = 1e-10
    tol_q: float = 1e-12
    max_iter: int | None = None
    lr: float = 0.05
    polish: bool = False
    max_norm: float = 1e6
    exact: object = "auto"
    explore: bool = True
    tol_unique: float | None = None
    deduplicate: bool = True
    stability: bool = True
    delta: float = 1e-8
    n_modes: int = 3
    settle: bool = True
    n_settle: int = 200
    settle_tol: float = 1e-5
    region: object = "auto"
    region_margin: float = 1.0
    manifolds: bool = True
    manifold_tol: float = 1e-3
    n_represent: int = 8

    def __post_init__(self):
        check_int("n_init", self.n_init, minimum=1)
        check_positive("noise", self.noise, strict=False)
        check_int("n_steps", self.n_steps, minimum=1)
        check_positive("init_scale", self.init_scale)
        check_choice("method", self.method, ("newton", "q"))
        for name in ("tol", "tol_q", "lr", "max_norm"):
            check_positive(name, getattr(self, name))
        if self.max_iter is not None:
            check_int("max_iter", self.max_iter, minimum=0)
        if self.exact not in ("auto", True, False) or isinstance(self.exact, int) and \
                not isinstance(self.exact, bool):
            raise ValidationError(f"exact: expected 'auto', True or False, received "
                                  f"{self.exact!r}")
        if self.tol_unique is not None:
            check_positive("tol_unique", self.tol_unique)
        check_positive("delta", self.delta, strict=False)
        check_int("n_modes", self.n_modes, minimum=0)
        check_int("n_settle", self.n_settle, minimum=1)
        check_int("n_represent", self.n_represent, minimum=1)
        for name in ("settle_tol", "region_margin", "manifold_tol"):
            check_positive(name, getattr(self, name), strict=name != "region_margin")
        for name in ("polish", "explore", "deduplicate", "stability", "settle", "manifolds"):
            if not isinstance(getattr(self, name), (bool, int)):
                raise ValidationError(f"{name}: expected True or False, received "
                                      f"{getattr(self, name)!r}")

    @property
    def iteration_cap(self) -> int:
        """``max_iter``, or its default for the method."""
        if self.max_iter is not None:
            return int(self.max_iter)
        return 100 if self.method == "newton" else 5000

    @property
    def unique_radius(self) -> float:
        """``tol_unique``, or its default for the method."""
        if self.tol_unique is not None:
            return float(self.tol_unique)
        return 1e-3 if self.method == "q" and not self.polish else 1e-6

    def replace(self, **changes) -> FixedPointOptions:
        """A copy with ``changes`` applied (validated); an unknown name is a ValidationError
        that lists the options."""
        return replace_options(self, changes, of="find_fixed_points()")


def resolve(options, overrides) -> FixedPointOptions:
    """``options`` (None or a FixedPointOptions) with the keyword ``overrides`` applied."""
    if options is None:
        options = FixedPointOptions()
    elif not isinstance(options, FixedPointOptions):
        raise ValidationError(f"options: expected a FixedPointOptions, received "
                              f"{type(options).__name__}")
    return options.replace(**overrides) if overrides else options
