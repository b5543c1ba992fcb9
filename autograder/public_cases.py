"""The public checks students get in their bundle: a small sample of calls, as data.

Each case is a module, a function and its arguments, nothing else: ``release`` computes the
expected value with the reference and writes both to the bundle's ``public_checks.json``,
and the generic ``templates/test_public.py`` calls the student's function and compares. No
hidden check's code, name or input travels this way, and the reference never does.

The sample covers every function a student writes in a few ordinary inputs (away from kinks,
where any value between the one-sided derivatives is right); the hidden autograder checks
far more: edge cases, dtypes, purity, numerical safety, gradients and the experiments.
``Function("numpy.sin")`` passes a function: looked up by name on the student's machine.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Function:
    path: str  # "module.name", e.g. "numpy.sin"


# (module, function, positional args, keyword args)
CASES = [
    ("activations", "sigmoid", ([-1000.0, -2.0, 0.0, 2.0, 1000.0],), {}),
    ("activations", "sigmoid", (np.array([-1.0, 0.0, 1.0], dtype=np.float32),), {}),
    ("activations", "tanh", ([-3.0, -0.5, 0.0, 0.5, 3.0],), {}),
    ("activations", "relu", ([[-2.0, -0.5], [0.5, 3.0]],), {}),
    ("activations", "relu6", ([-1.0, 3.0, 7.5],), {}),
    ("activations", "leaky_relu", ([-2.0, 3.0],), {}),
    ("activations", "leaky_relu", ([-2.0, 3.0],), {"alpha": 0.2}),
    ("activations", "prelu", (np.array([[-1.0, 2.0], [-3.0, -4.0]]), np.array([0.1, 0.5])), {}),
    ("activations", "elu", ([-2.0, -0.5, 1.5],), {}),
    ("activations", "elu", ([-2.0, 1.5],), {"alpha": 0.5}),
    ("activations", "gelu", ([-3.0, -0.5, 0.5, 2.0],), {}),
    ("activations", "swish", ([-2.0, 0.0, 2.0],), {}),
    ("activations", "swish", ([-2.0, 2.0],), {"beta": 2.0}),
    ("derivatives", "sigmoid_grad", ([-2.0, 0.0, 2.0],), {}),
    ("derivatives", "tanh_grad", ([-1.0, 0.0, 1.0],), {}),
    ("derivatives", "relu_grad", ([-1.5, 2.0],), {}),
    ("derivatives", "relu6_grad", ([-1.0, 3.0, 7.0],), {}),
    ("derivatives", "leaky_relu_grad", ([-1.0, 2.0],), {"alpha": 0.2}),
    ("derivatives", "elu_grad", ([-1.0, 2.0],), {}),
    ("derivatives", "gelu_grad", ([-1.0, 0.0, 1.0],), {}),
    ("derivatives", "swish_grad", ([-1.0, 0.0, 1.0],), {}),
    ("derivatives", "prelu_grad", ([-1.0, 2.0], 0.25), {}),
    ("derivatives", "prelu_backward",
     (np.ones((2, 2)), np.array([[-1.0, 2.0], [-3.0, 4.0]]), np.array([0.1, 0.2])), {}),
    ("derivatives", "numerical_derivative", (Function("numpy.sin"), [0.0, 1.0]), {}),
    ("derivatives", "gradient_check", (Function("numpy.sin"), Function("numpy.sin"), [0.5, 1.0]), {}),
    ("linear_collapse", "linear_forward",
     (np.array([[1.0, 2.0]]), [np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[2.0], [-1.0]])],
      [np.array([0.5, 0.0]), np.array([1.0])]), {}),
    ("linear_collapse", "collapse",
     ([np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[2.0], [-1.0]])],
      [np.array([0.5, 0.0]), np.array([1.0])]), {}),
    ("linear_collapse", "relu_ramp", ([-1.0, 0.5, 1.0, 3.0], 0.0, 2.0), {}),
    ("linear_collapse", "sum_of_steps",
     ([0.0, 1.0, 3.0], {"a": np.array([0.0, 2.0]), "b": np.array([1.0, 2.5]),
                        "heights": np.array([1.0, -0.5]), "offset": 0.25}), {}),
    ("dying_relu", "dead_units",
     (np.array([[1.0, 2.0], [3.0, 1.0]]), np.array([[1.0, -1.0, 0.0], [0.0, -1.0, 1.0]]),
      np.array([0.0, 0.5, -5.0])), {}),
    ("dying_relu", "dead_fraction",
     (np.array([[1.0, 2.0], [3.0, 1.0]]),
      [np.array([[1.0, -1.0], [0.0, -1.0]]), np.array([[1.0], [1.0]])],
      [np.array([0.0, 0.5]), np.array([0.0])]), {}),
    ("saturation", "saturated_fraction", ([[0.001, 0.5], [0.995, 0.3]], 0.0, 1.0), {}),
    ("saturation", "weight_gradients", ([1.0, -2.0], [[0.5, 1.0], [0.25, 0.1]]), {}),
    ("saturation", "sign_mixed_fraction", ([[1.0, -1.0], [1.0, 2.0], [0.0, -1.0]],), {}),
    ("saturation", "same_sign_direction", ([-1.0, 3.0],), {}),
]
