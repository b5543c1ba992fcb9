"""The array contract of the elementwise functions (SPEC.md "Array contract"), shared by the
hidden checks of activations.py and derivatives.py: the inputs they draw on, the values the
reference accepts (a range at a kink), and the verifiers through which ``judge.gate`` credits
a property only together with right values.

Every elementwise function has a probe: the ordinary points of its public "values" check and,
for a derivative, the points where a central difference is off by more than the contract's
tolerance (next to a kink; where f' is small beside f ~ 1, so f(x + h) - f(x - h) loses
1e-16 / 2h = 5e-12; at a zero crossing of f', where only the O(h^2) error is left). No check
of a function is credited unless the function is right on its probe: a derivative earns its
points by being derived, not differenced.
"""
from __future__ import annotations

import numpy as np

from . import config, judge
from .judge import Fail
from .reference import function as _reference

# activation -> its default extra arguments (prelu has no default slope)
ACTIVATIONS = {"sigmoid": (), "tanh": (), "relu": (), "relu6": (), "leaky_relu": (),
               "prelu": (0.25,), "elu": (), "gelu": (), "swish": ()}
# *_grad -> (its activation, default extra arguments, kinks)
GRADS = {
    "sigmoid_grad": ("sigmoid", (), ()),
    "tanh_grad": ("tanh", (), ()),
    "relu_grad": ("relu", (), (0.0,)),
    "relu6_grad": ("relu6", (), (0.0, 6.0)),
    "leaky_relu_grad": ("leaky_relu", (), (0.0,)),
    "elu_grad": ("elu", (), (0.0,)),
    "gelu_grad": ("gelu", (), ()),
    "swish_grad": ("swish", (), ()),
}
ARGS = {**ACTIVATIONS, **{g: v[1] for g, v in GRADS.items()}}


def module_of(function: str) -> str:
    return "derivatives" if function in GRADS else "activations"


# Finite edge cases, |x| <= 1e6: zero, near the kinks, saturation, where e^-x overflows.
EDGES = np.array([0.0, 1e-8, -1e-8, 0.5, -0.5, 1.0, -1.0, 5.0, -5.0, 6.0, 6.001, 5.999, 10.0,
                  -10.0, 40.0, -40.0, 709.0, -709.0, 710.0, -710.0, 1000.0, -1000.0, 1e4,
                  -1e4, 1e6, -1e6])
# A sorted grid from -1e6 to 1e6 for the lecture's properties (monotone, bounds, symmetry).
GRID = np.concatenate([-np.logspace(6, -3, 40), [0.0], np.linspace(-8, 8, 81),
                       np.logspace(-3, 6, 40)])
GRID.sort()
# One finite input serves the edge cases, the numerical safety and the lecture's properties.
FINITE = np.concatenate([EDGES, GRID, -GRID])

# The ordinary points of every function's public values check.
ORDINARY = np.array([-7.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 7.0])
# Where a central difference (f(x + h) - f(x - h)) / 2h is off by more than rtol 1e-7 /
# atol 1e-12: within h of a kink (any h above 1e-9); at 1e5 and 1e6, where f(x) ~ x rounds
# to 1e-11 and 1e-10 (h below 1e-3); at a zero crossing of f', where the O(h^2) error is
# all that is left (h above 1e-6) and rounding does the rest; where f ~ 1 but f' is small
# (sigmoid, tanh: h below 5e-5; ORDINARY's 3 and 7 catch h above 8e-4). Only a step in
# narrow windows meets the contract: 5e-5 to 8e-4 for sigmoid' and tanh', 5e-11 to 1e-9 for
# relu6' (x +- h rounds to the same relative error wherever relu6 is linear); values can't
# tell those from a derived derivative (tests/test_contract.py measures the windows).
_NEAR_KINK = [-1e-6, -1e-9, 1e-9, 1e-6]
_LARGE = [1e5, 1e6]
_GELU_ROOT, _SWISH_ROOT = -0.7524614220710162, -1.278464542761074  # f'(x) = 0 there
DIFFERENCE_FAILS = {
    "sigmoid_grad": [14.0, 15.0, 16.0, 17.0, 18.0, 19.0, 20.0],
    "tanh_grad": [-10.0, -9.0, -8.0, 8.0, 9.0, 10.0],
    "relu_grad": _NEAR_KINK + _LARGE,
    "relu6_grad": _NEAR_KINK + [6.0 + d for d in _NEAR_KINK],
    "leaky_relu_grad": _NEAR_KINK + _LARGE + [-1e5, -1e6],
    "elu_grad": _NEAR_KINK + _LARGE,
    "gelu_grad": [_GELU_ROOT + k * 2e-7 for k in range(-3, 4)] + _LARGE,
    "swish_grad": [_SWISH_ROOT + k * 2e-7 for k in range(-3, 4)] + _LARGE,
}


def probe_input(function: str) -> np.ndarray:
    """The input of ``function``'s public values check and of its probe."""
    return np.sort(np.concatenate([ORDINARY, DIFFERENCE_FAILS.get(function, [])]))


def reference(function: str, x, *args) -> np.ndarray:
    """The reference value in float64 (warnings of the reference are not the student's)."""
    with np.errstate(all="ignore"):
        f = _reference(module_of(function), function)
        return np.asarray(f(np.asarray(x, dtype=np.float64), *args), dtype=np.float64)


def accepted(function: str, x, *args) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) accepted for ``function(x, *args)``: the reference, widened at a kink to every
    value between the one-sided derivatives (SPEC: any value between them)."""
    y = reference(function, x, *args)
    lo, hi = y.copy(), y.copy()
    for k in GRADS.get(function, (None, None, ()))[2]:
        at = np.broadcast_to(np.asarray(x, dtype=np.float64) == k, y.shape)
        if at.any():
            side = reference(function, np.array([k - 1e-9, k + 1e-9]), *args)
            lo[at] = min(side.min(), y[at].min())
            hi[at] = max(side.max(), y[at].max())
    return lo, hi


def tolerance(value) -> tuple[float, float]:
    """(rtol, atol) of the contract for a returned value: float32 results against the float64
    reference get float32's."""
    if isinstance(value, np.ndarray) and value.dtype == np.float32:
        return config.RTOL32, config.ATOL32
    return config.RTOL64, config.ATOL64


def slack(target) -> np.ndarray:
    """How far a float64 value may be from ``target`` within the contract's tolerance: the
    lecture's properties are judged with it, never more strictly than the values are."""
    return config.ATOL64 + config.RTOL64 * np.abs(target)


def near(y, target) -> np.ndarray:
    """Elementwise: ``y`` equals ``target`` within the contract's tolerance."""
    return np.abs(np.asarray(y, dtype=np.float64) - target) <= slack(target)


def expect_values(sub, function: str, x, args=None, *, hint: str,
                  readonly: bool = False) -> np.ndarray:
    """Call ``function(x, *args)``; ``Fail`` unless its values are within the contract's
    tolerance of the accepted ones."""
    args = ARGS[function] if args is None else args
    return judge.expect_values(sub, module_of(function), function, x, args,
                               lambda x64, *a: accepted(function, x64, *a), hint=hint,
                               readonly=readonly)


def curve(sub, function: str, x, *args) -> tuple[str, np.ndarray]:
    """``function(x, *args)`` as float64; on GRID or -GRID with the default arguments, a slice
    of the one call on FINITE."""
    if not args and (x is GRID or np.array_equal(x, -GRID)):
        what, y = curve(sub, function, FINITE, *ARGS[function])
        n, m = EDGES.size, GRID.size
        return what, (y[n:n + m] if x is GRID else y[n + m:])
    what = judge.call_text(function, x, *args)
    got = judge.real_array(judge.returned(judge.call(sub, module_of(function), function, x, *args),
                                          what), what, np.shape(x))
    return what, got.astype(np.float64)


def expect_right(function: str, value, lo, hi, x, part: str = "") -> None:
    """``Fail`` (one line, for ``judge.gate``) unless ``value`` lies within the contract's
    tolerance of [lo, hi] at every finite ``x`` (broadcast to lo's shape); NaN and +-inf
    inputs are judged by their own checks."""
    label = f"{function}{f' (its {part})' if part else ''}"
    value = np.asarray(value) if isinstance(value, np.generic) else value
    if not (isinstance(value, np.ndarray) and value.dtype.kind in "biuf"
            and value.shape == np.shape(lo)):
        raise Fail(f"{label} returned {judge.short(value, 60)}, not numbers shaped {np.shape(lo)}")
    rtol, atol = tolerance(value)
    xs = np.broadcast_to(np.asarray(x, dtype=np.float64), np.shape(lo))
    bad = judge.mismatches(value, judge.clip_to_range(value, lo, hi), rtol, atol) & np.isfinite(xs)
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        raise Fail(f"{label} is wrong at {int(bad.sum())} of {bad.size} values it returned here "
                   f"(e.g. at x = {xs[i].item()!r}: expected {np.asarray(lo)[i].item()!r}, got "
                   f"{value[i].item()!r})")


def _verify(function: str):
    """The verifier of an elementwise function: right at every finite input. A derivative
    wrong on its probe only where a finite difference is off is told so."""
    def verify(value, args, kwargs):
        x, *rest = args
        try:
            expect_right(function, value, *accepted(function, x, *rest), x)
        except Fail as exc:
            differenced = np.isin(np.asarray(x, dtype=np.float64), DIFFERENCE_FAILS.get(function, []))
            if differenced.any() and not differenced.all():
                ordinary = ~differenced
                try:
                    expect_right(function, np.asarray(value)[ordinary],
                                 *(b[ordinary] for b in accepted(function, x, *rest)),
                                 np.asarray(x)[ordinary])
                except Fail:
                    raise exc from None
                raise Fail(exc.message + ": right at ordinary points but not where a central "
                           "difference is off, as a derivative taken numerically is; derive "
                           "it instead") from None
            raise
    return verify


for _function, _args in ARGS.items():
    judge.verifier(module_of(_function), _function,
                   probe=(probe_input(_function), *_args))(_verify(_function))
