"""The fuzz suite runs under a fixed memory budget, so that "too large" means the same on every
machine."""

import pytest

from attractorkit.core import set_memory_budget


@pytest.fixture(autouse=True)
def _one_gib_budget():
    set_memory_budget("1GiB")
    yield
    set_memory_budget(None)
