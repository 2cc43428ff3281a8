"""The memory budget (issue 19, item 3): a call whose largest allocation cannot fit is refused
before any work, saying how much and which argument to lower."""

import math

import pytest

from attractorkit import ValidationError
from attractorkit.core import check_memory, memory_budget, set_memory_budget


@pytest.fixture(autouse=True)
def _reset(monkeypatch):
    monkeypatch.delenv("ATTRACTORKIT_MEMORY_BUDGET", raising=False)
    set_memory_budget(None)
    yield
    set_memory_budget(None)


def test_default_budget_is_the_available_memory():
    budget, source = memory_budget()
    with open("/proc/meminfo") as fh:
        avail = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable"))
    assert "available" in source
    assert 0 < budget <= 1.05 * avail  # the cgroup's allowance may be lower still


def test_message_says_how_much_and_which_argument():
    with pytest.raises(ValidationError, match=r"^n_steps: this call would allocate about "
                                              r"7\.28 TiB, .* budget of 1 GiB .*lower n_steps"):
        check_memory((8, 10**12), argument="n_steps", budget="1GiB")
    assert check_memory((8, 1000, 1000), argument="n_init", budget=10**7) == 8 * 10**6


def test_factors_multiply_exactly_without_overflow():
    huge = (8, 2**40, 2**40)  # 2**83 bytes: int64 would wrap to a small number
    with pytest.raises(ValidationError, match="n_init"):
        check_memory(huge, argument="n_init", budget=2**62)


@pytest.mark.parametrize("text, expected", [("512MB", 512e6), ("2GiB", 2 * 2**30),
                                            ("1.5e9", 1.5e9), ("4096", 4096.0),
                                            ("unlimited", math.inf), (" 3 kib ", 3072.0)])
def test_environment_variable_and_setting(monkeypatch, text, expected):
    monkeypatch.setenv("ATTRACTORKIT_MEMORY_BUDGET", text)
    assert memory_budget()[0] == pytest.approx(expected)
    set_memory_budget(1000)
    assert memory_budget() == (1000.0, "set by attractorkit.core.set_memory_budget")
    set_memory_budget(None)
    assert memory_budget()[0] == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["lots", "-1GB", "0", "5 parsecs", True, [1]])
def test_bad_budgets_are_validation_errors(monkeypatch, bad):
    with pytest.raises(ValidationError, match="budget"):
        set_memory_budget(bad)
    if isinstance(bad, str):
        monkeypatch.setenv("ATTRACTORKIT_MEMORY_BUDGET", bad)
        with pytest.raises(ValidationError, match="ATTRACTORKIT_MEMORY_BUDGET"):
            check_memory(1, argument="x")
