"""Derived systems that are themselves Models: a model at a frozen input, the p-th iterate
F^p, the Poincare return map of a flow."""
