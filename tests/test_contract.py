"""The probes of autograder.contract: the reference is right on them, and a derivative taken
by central differences of the reference activation is not, for every step h, but for the one
window where sigmoid' and tanh' can't be told apart by values within the contract."""
import numpy as np
import pytest

from autograder import contract

STEPS = [10.0 ** -k for k in np.arange(2, 10.5, 0.25)]
# h where a central difference meets rtol 1e-7 / atol 1e-12 on the whole probe: for sigmoid
# and tanh, rounding (1e-16 / h) is below 1e-12 and truncation (h^2 / 6 relative) below
# 1e-7; for relu6, x +- h rounds alike wherever relu6 is linear, and no kink is within h.
INSEPARABLE = {"sigmoid_grad": (5e-5, 8e-4), "tanh_grad": (5e-5, 8e-4),
               "relu6_grad": (5e-11, 1e-9)}


def _wrong_somewhere(function, values):
    x = contract.probe_input(function)
    lo, hi = contract.accepted(function, x, *contract.ARGS[function])
    try:
        contract.expect_right(function, values, lo, hi, x)
    except AssertionError:
        return True
    return False


@pytest.mark.parametrize("function", list(contract.ARGS))
def test_reference_is_right_on_its_probe(function):
    x = contract.probe_input(function)
    assert not _wrong_somewhere(function, contract.reference(function, x, *contract.ARGS[function]))


@pytest.mark.parametrize("function", list(contract.GRADS))
def test_central_differences_fail_the_probe(function):
    forward, args, _ = contract.GRADS[function]
    x = contract.probe_input(function)
    lo, hi = INSEPARABLE.get(function, (0, 0))
    passed = []
    for h in STEPS:
        n = (contract.reference(forward, x + h, *args) - contract.reference(forward, x - h, *args)) / (2 * h)
        if not _wrong_somewhere(function, n):
            passed.append(h)
    assert all(lo <= h <= hi for h in passed), (function, passed)
    # the window really is there for sigmoid' and tanh' (so the docs say the truth)
    assert bool(passed) == (function in INSEPARABLE), (function, passed)
