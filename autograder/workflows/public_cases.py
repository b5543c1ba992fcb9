"""The public sample, as data: the one source of ``check`` and of the bundle's test_public.py.

Each ``Case`` is a call (module, function, arguments) and what it samples: ``release``
computes the expected result with the reference and writes both to the bundle's
``public_checks.json``; the bundle's ``test_public.py`` calls the student's function there
and ``python -m autograder check`` calls it in the sandbox, and both judge the outcome with
the same ``verdict`` (``templates/test_public.py``). No hidden check's code, name or
random input travels this way, and the reference never does: only its answers to these
calls, and the hints of its docstrings (``hints.py``).

The sample has a case of every kind the hidden checks grade (docs/grading.md): values on
ordinary points and at kinks (any value between the one-sided derivatives), each input form
of the array contract (a list, float32, int, bool, 0-d, 2-D), NaN and +-inf where SPEC
promises limits, no floating-point warning on huge finite inputs, the input unchanged and
nothing printed, whole-array code (Python lines counted on two sizes, as the grader does),
shapes (every value is compared with its shape and dtype), the errors SPEC promises, and a
small run of each experiment: its data and results against the reference's for fixed
non-default arguments (a seed, a learning rate ignored shows), and the lecture's claim
checked on what the student's run returned (``claim``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import config, contract


@dataclass(frozen=True)
class Function:
    path: str  # "module.name", e.g. "numpy.sin": passed as a function, looked up by name


@dataclass(frozen=True)
class Case:
    module: str
    function: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    label: str = "values"        # what it samples: the end of its id
    topic: str = "values"        # the reference docstring's hint it shows on failure
    properties: tuple = ()       # also judged: "warnings" (none), "pure" (input kept, no
    #                              print), "fresh" (no returned array shares the input's memory)
    vector: bool = False         # also judged: the same Python lines on VECTOR_SIZES elements
    kinks: bool = False          # at a kink any value between the one-sided derivatives
    keys: tuple = ()             # a dict result: the (nested) parts compared, e.g. ("x",)
    claim: str | None = None     # a lecture claim test_public.py checks on the result
    raises: str | None = None    # the exception SPEC promises instead of a result
    timeout: float = config.CALL_TIMEOUT

    @property
    def kind(self) -> str:
        """The kind of hidden check it samples (config.KINDS)."""
        if self.keys or self.claim:
            return "experiment"
        if self.properties or self.vector or self.topic != "values" or self.label in ("0d", "number"):
            return "behaviour"
        return "correctness"


A, D, L, DR, S = "activations", "derivatives", "linear_collapse", "dying_relu", "saturation"
HUGE = [-1e6, -1e4, -1000.0, -710.0, -40.0, -1.0, 0.0, 1.0, 40.0, 710.0, 1000.0, 1e4, 1e6]
LIMITS = {"sigmoid", "tanh", "relu", "relu6", "leaky_relu", "prelu", "elu"}  # SPEC: +-inf
ALPHA3 = np.array([0.1, 0.5, 2.0])


def _elementwise(module: str, function: str, extra=(), extra_kwargs=None) -> list[Case]:
    """The array contract's cases of one elementwise function."""
    kw = dict(extra_kwargs or {})
    grad = module == D
    cases = [
        Case(module, function, (contract.probe_input(function).tolist(), *extra), kw, "values",
             kinks=grad),
        Case(module, function, (np.array([[-5.35, -2.5, -0.5, 0.0], [0.75, 3.0, 6.5, 10.0]],
                                         dtype=np.float32),
                                *extra), kw, "float32", topic="dtype", kinks=grad),
        Case(module, function, (np.array([[-3, -1, 0], [1, 2, 7]]), *extra), kw, "int-2d",
             topic="dtype", kinks=grad),
        Case(module, function, (np.array([True, False, True]), *extra), kw, "bool",
             topic="dtype", kinks=grad),
        Case(module, function, (np.array(-1.5), *extra), kw, "0d"),
        Case(module, function, (2.0, *extra), kw, "number"),
        Case(module, function, (np.array(HUGE), *extra), kw, "safe", topic="safe",
             properties=("warnings", "pure"), vector=True, kinks=grad),
    ]
    if function in LIMITS:
        cases.append(Case(module, function, (np.array([np.nan, -np.inf, np.inf, 1.0]), *extra),
                          kw, "nan-inf", topic="nan"))
    if function in ("sigmoid_grad", "tanh_grad"):
        cases.append(Case(module, function, (np.array([-np.inf, np.inf, 0.5]), *extra), kw,
                          "inf", topic="nan"))
    return cases


def _activations() -> list[Case]:
    cases = []
    for f, args in contract.ACTIVATIONS.items():
        cases += _elementwise(A, f, args)
    cases += [
        Case(A, "leaky_relu", ([-2.0, 3.0],), {"alpha": 0.2}, "alpha"),
        Case(A, "elu", ([-2.0, -0.5, 1.5],), {"alpha": 0.5}, "alpha"),
        Case(A, "swish", ([-2.0, 0.5, 2.0],), {"beta": 2.0}, "beta"),
        Case(A, "prelu", (np.array([[-1.0, 2.0, -3.0], [-4.0, 5.0, -6.0]]), ALPHA3), {}, "channels"),
        Case(A, "prelu", (np.array([[-1.0, 2.0, -3.0]], dtype=np.float32), ALPHA3), {},
             "float32-channels", topic="dtype"),
    ]
    return cases


def _derivatives() -> list[Case]:
    cases = []
    for g, (_, args, _) in contract.GRADS.items():
        cases += _elementwise(D, g, args)
    x23 = np.array([[-1.0, 2.0, -3.0], [-4.0, 0.5, -6.0]])
    cases += [
        Case(D, "leaky_relu_grad", ([-1.0, 2.0],), {"alpha": 0.2}, "alpha"),
        Case(D, "elu_grad", ([-1.0, 2.0],), {"alpha": 0.5}, "alpha"),
        Case(D, "swish_grad", ([-1.0, 0.5, 2.0],), {"beta": 2.0}, "beta"),
        Case(D, "prelu_grad", ([-1.0, 2.0], 0.25), {}, "pair"),
        Case(D, "prelu_grad", (x23, ALPHA3), {}, "channels"),
        Case(D, "prelu_grad", (np.array([[-1.0], [2.0], [-3.0], [4.0]]), ALPHA3), {}, "broadcast"),
        Case(D, "prelu_grad", (np.array([-1.0, 2.0], dtype=np.float32), np.float32(0.25)), {},
             "float32", topic="dtype"),
        Case(D, "prelu_backward", (np.ones((2, 3)), x23, ALPHA3), {}, "channels"),
        Case(D, "prelu_backward", (np.arange(24.0).reshape(2, 4, 3) - 10, np.linspace(-3, 3, 24)
                                   .reshape(2, 4, 3), ALPHA3), {}, "3d"),
        Case(D, "prelu_backward", (np.ones((4, 3)), np.linspace(-3, 3, 12).reshape(4, 3),
                                   ALPHA3.reshape(1, 3)), {}, "size-1-axis"),
        Case(D, "prelu_backward", (np.full((2, 3), 0.5), x23, 0.25), {}, "scalar"),
        Case(D, "numerical_derivative", (Function("numpy.sin"), [0.0, 1.0, 2.0]), {}, "sin"),
        Case(D, "numerical_derivative", (Function("numpy.exp"), [0.0, 1.0]), {"h": 0.1}, "h"),
        Case(D, "numerical_derivative", (Function("numpy.sin"), np.array([0.5, 1.0], dtype=np.float32)),
             {}, "float32", topic="dtype"),
        Case(D, "gradient_check", (Function("numpy.sin"), Function("numpy.sin"), [0.5, 1.0, 2.0]),
             {}, "wrong-grad"),
        Case(D, "gradient_check", (Function("numpy.sin"), Function("numpy.cos"), [0.5, 1.0]),
             {"h": 0.5}, "h"),
        Case(D, "gradient_check", (Function("numpy.square"), Function("numpy.sin"), [0.0, 1.0]),
             {}, "zero-grad"),
        Case(D, "gradient_check", (Function("numpy.sin"), Function("numpy.cos"), np.zeros(0)),
             {}, "empty"),
    ]
    return cases


def _experiments() -> list[Case]:
    w2 = [np.array([[1.0, 0.0, 2.0], [1.0, 1.0, -1.0]]), np.array([[2.0], [-1.0], [0.5]])]
    b2 = [np.array([0.5, 0.0, -1.0]), np.array([1.0])]
    steps = {"a": np.array([0.0, 2.0]), "b": np.array([1.0, 2.5]),
             "heights": np.array([1.0, -0.5]), "offset": 0.25}
    x = np.array([[1.0, 2.0], [3.0, 1.0], [-1.0, 0.0]])
    dead_w = [np.array([[1.0, -1.0, 0.0, 1.0], [0.0, -1.0, 1.0, 1.0]]),
              np.array([[1.0, -1.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 1.0]]), np.array([[1.0], [1.0]])]
    dead_b = [np.array([0.0, 0.5, -5.0, 0.0]), np.array([-100.0, 0.0]), np.array([0.0])]
    run = config.EXPERIMENT_TIMEOUT
    return [
        Case(L, "linear_forward", (np.array([[1.0, 2.0], [0.0, -1.0]]), w2, b2), {}, "2-layers"),
        Case(L, "linear_forward", (np.array([[1.0, 2.0]]), w2[:1], b2[:1]), {}, "1-layer",
             properties=("pure",)),
        Case(L, "collapse", (w2, b2), {}, "2-layers", properties=("pure",)),
        Case(L, "collapse", (w2[:1], b2[:1]), {}, "1-layer", properties=("fresh",)),
        Case(L, "collapse", ([np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([[2.0, 0.0], [1.0, 1.0]]),
                              np.array([[1.0], [-3.0]])],
                             [np.array([1.0, -2.0]), np.array([0.5, 3.0]), np.array([0.25])]), {},
             "3-layers"),
        Case(L, "relu_ramp", ([-1.0, 0.5, 1.0, 3.0], 0.0, 2.0), {}, "values"),
        Case(L, "relu_ramp", (np.array([[-5.0, np.nan], [3.0, 1.5]]), -1.0, 2.0), {}, "nan-2d"),
        Case(L, "relu_ramp", (np.array([np.inf, -np.inf, 0.5]), -1.0, 2.0), {}, "inf",
             topic="infinity"),
        Case(L, "relu_ramp", ([0.5], 2.0, 2.0), {}, "a-not-below-b", raises="ValueError"),
        Case(L, "sum_of_steps", ([0.0, 1.0, 3.0], steps), {}, "values"),
        Case(L, "sum_of_steps", (np.array([[0.0, 1.0], [2.25, 3.0]]), steps), {}, "2d"),
        Case(L, "step_approximation", (5,), {}, "sin"),
        Case(L, "step_approximation", (3,), {"f": Function("numpy.exp"), "lo": -1.0, "hi": 1.0}, "exp"),
        Case(L, "circles_experiment", (), {"seed": 3, "lr": 0.2, "steps": 25}, "small-run",
             keys=(("x",), ("y",), ("identity", "losses"), ("relu", "losses"), ("relu", "biases")),
             timeout=run),
        Case(DR, "dead_units", (x, dead_w[0], dead_b[0]), {}, "values"),
        Case(DR, "dead_units", (np.array([[1.0, -1.0], [2.0, 0.0]]), np.array([[-1.0, 1.0], [0.0, 1.0]]),
                                np.array([1.0, 0.0])), {}, "exactly-zero"),
        Case(DR, "dead_units", (np.array([[np.nan, 1.0]]), np.array([[1.0, 0.0], [0.0, -1.0]]),
                                np.array([0.0, 0.0])), {}, "nan"),
        Case(DR, "dead_fraction", (x, dead_w, dead_b), {}, "3-layers"),
        Case(DR, "dead_fraction", (x[:1], [dead_w[0], np.ones((4, 1))], [dead_b[0], np.zeros(1)]),
             {}, "one-row"),
        Case(DR, "dead_unit_experiment", (), {"seed": 2, "unit": 3, "bias": -50.0, "lr": 0.5,
                                              "steps": 20}, "small-run",
             keys=(("grad_b",), ("losses",), ("biases_before",)), claim="dead_unit_stays_dead",
             timeout=run),
        Case(DR, "lr_sweep", (), {"lrs": (0.1, 10.0), "seed": 1, "bias_init": 0.01, "steps": 20},
             "small-run", keys=(("lrs",), ("losses",)), timeout=run),
        Case(DR, "relu_vs_leaky", (), {"seed": 1, "steps": 20}, "small-run",
             keys=(("lr",), ("relu", "losses"), ("leaky_relu", "losses")), timeout=run),
        Case(S, "saturated_fraction", ([[0.001, 0.5], [0.995, 0.3]], 0.0, 1.0), {}, "values"),
        Case(S, "saturated_fraction", (np.array([-0.95, 0.0, 0.85, 0.99]), -1.0, 1.0), {"eps": 0.2}, "eps"),
        Case(S, "saturated_fraction", ([np.nan, 0.5, 0.999, 0.0],), {"low": 0.0, "high": 1.0}, "nan"),
        Case(S, "weight_gradients", ([1.0, -2.0], [[0.5, 1.0], [0.25, 0.1]]), {}, "values"),
        Case(S, "sign_mixed_fraction", ([[1.0, -1.0], [1.0, 2.0], [0.0, -1.0], [0.0, 0.0]],), {},
             "zeros"),
        Case(S, "same_sign_direction", ([-1.0, 3.0],), {}, "values"),
        Case(S, "same_sign_direction", ([-2.0, 2.0],), {}, "tie"),
        Case(S, "descent_path", ([-1.0, 2.0], [1.0, -1.0]), {"lr": 0.3, "same_sign": True}, "same-sign"),
        Case(S, "descent_path", ([0.0, 0.0], [1.0, 2.0]), {"lr": 0.5, "tol": 0.1}, "free"),
        Case(S, "saturation_experiment", (), {"n_in": 100, "n_units": 10, "n_samples": 20,
                                              "eps": 0.05, "seed": 4}, "small-run",
             keys=(("fractions",),), claim="saturation_consistent", timeout=run),
        Case(S, "first_layer_grad_norms", ([1, 3],), {"activation": "sigmoid", "width": 8,
                                                     "n_samples": 4, "seed": 5}, "sigmoid",
             keys=(("norms",), ("x",)), timeout=run),
        Case(S, "first_layer_grad_norms", ([2],), {"activation": "tanh", "width": 6,
                                                  "n_samples": 3, "weight_scale": 2.0, "seed": 1},
             "tanh", keys=(("norms",),), timeout=run),
        Case(S, "first_layer_grad_norms", ([1],), {"activation": "sigmoid", "width": 4,
                                                  "n_samples": 2, "weight_scale": 3000.0},
             "saturated", topic="safe", properties=("warnings",), keys=(("norms",),), timeout=run),
        Case(S, "time_activations", ({"abs": Function("numpy.abs"), "exp": Function("numpy.exp")},),
             {"sizes": (1000, 3000), "repeat": 2, "baseline": "exp"}, "consistent",
             claim="timings_consistent", timeout=run),
        Case(S, "sign_mixing_experiment", (), {"n_vectors": 40, "n_inputs": 4, "seed": 6},
             "small-run", keys=(("delta",), ("fractions",)), claim="sigmoid_signs_agree",
             timeout=run),
    ]


CASES: list[Case] = [*_activations(), *_derivatives(), *_experiments()]
