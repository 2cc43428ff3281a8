"""Derived systems that are themselves Models, so that every analysis runs on them unchanged.

- :class:`FrozenInput`: a model held at one constant input (an autonomous system, ``n_input``
  0); a standard cell stays a kernel model, its input folded into the bias.
- :class:`Iterate`: the p-th iterate ``F^p`` of a map, with its Jacobian by the chain rule (the
  one chain rule of the package); its fixed points are the period-p points of the map.

The third derived system, the Poincaré return map of a flow, is
:class:`attractorkit.dynamics.ReturnMap`: it integrates the flow with the engine of
``dynamics``, a layer above this one (docs/architecture.md).
"""

from __future__ import annotations

from ._frozen import FrozenInput
from ._iterate import Iterate, chain_jacobians

__all__ = ["FrozenInput", "Iterate", "chain_jacobians"]
