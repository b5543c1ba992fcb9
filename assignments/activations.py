# Student version of activations.py, generated from the reference solution.
# Replace every `raise NotImplementedError` with your code; keep the names and signatures.
"""Activation functions from the lecture "Better activation functions".

Without a non-linearity between them, a stack of linear layers collapses into one
linear layer; the activation is what gives a deep network its power. This module
walks the lecture's path: sigmoid (saturates, not zero-centred, costs an exp),
tanh (zero-centred but still saturates), relu (cheap, does not saturate for x > 0,
but units can die), relu6, and the fixes for dead ReLUs: leaky, parametric (PReLU)
and exponential (ELU) slopes on the negative side; then gelu and swish.

Every function follows the course's array contract:

* ``x`` is a Python number, a (nested) list or a numpy array of any shape (0-d
  too) of bool, integer or floating dtype;
* the result has the shape of ``np.asarray(x)``; floating input keeps its dtype
  (float32 in, float32 out), bool and integer input give float64;
* the input is never written to, nothing is printed;
* no overflow / invalid / divide-by-zero warning for any finite |x| <= 1e6;
* NaN in gives NaN out at the same places.

Each function works on whole arrays at once (no Python loop over elements).
"""
import numpy as np


def _as_float(x):
    """``np.asarray(x)`` as a floating array: bool and int become float64,
    floating dtypes (float16/32/64) are kept. Never copies a floating array,
    so only read from the result."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def sigmoid(x):
    """Logistic sigmoid, sigma(x) = 1 / (1 + e^-x), elementwise.

    Squashes any input into (0, 1). Lecture: it *saturates* -- for |x| beyond a
    few units the output is pinned near 0 or 1 and its gradient vanishes; its
    outputs are all positive (not zero-centred), and it costs an exp.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * sigmoid(+inf) = 1, sigmoid(-inf) = 0, NaN -> NaN.
        * sigmoid(-1000.0) is 0 and sigmoid(1000.0) is 1, with no overflow
          warning: written as it stands, e^-x overflows for x < -709.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("sigmoid")


def tanh(x):
    """Hyperbolic tangent, (e^x - e^-x) / (e^x + e^-x), elementwise.

    Squashes into (-1, 1). Lecture: tanh is *zero-centred*, which removes the
    sigmoid's all-same-sign gradients and zig-zag updates, but it still
    saturates at +-1 (vanishing gradients) and still costs exps.
    Note tanh(x) = 2 * sigmoid(2x) - 1.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * tanh(+inf) = 1, tanh(-inf) = -1, NaN -> NaN.
        * No overflow warning for |x| <= 1e6 (the formula as written computes e^1000).
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("tanh")


def relu(x):
    """Rectified linear unit, max(0, x), elementwise.

    Lecture: no exp, so it is cheap, and it does not saturate for x > 0; but for
    x < 0 its output and its gradient are exactly 0, which is how a unit can
    "die". Still a non-linearity: relu(x) - relu(x - 1) is a (linear) step.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * relu(+inf) = +inf, relu(-inf) = 0, NaN -> NaN.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("relu")


def relu6(x):
    """ReLU capped at 6: min(max(0, x), 6), elementwise.

    The bounded ReLU the lecture draws (the "6" is its maximum value); note it is
    also the difference of two ReLUs, relu(x) - relu(x - 6).

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * relu6(+inf) = 6, relu6(-inf) = 0, NaN -> NaN.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("relu6")


def leaky_relu(x, alpha=0.01):
    """Leaky ReLU: x if x > 0 else alpha * x, elementwise.

    Lecture: the fix for dead ReLUs -- a small slope ``alpha`` on the negative
    side lets some gradient always flow, keeps relu's cheapness, and gives
    negative outputs too (closer to zero-centred).

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
        alpha: the negative-side slope, a number (default 0.01).
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * leaky_relu(+inf) = +inf, leaky_relu(-inf) = -inf (for alpha > 0).
        * NaN -> NaN.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("leaky_relu")


def prelu(x, alpha):
    """Parametric ReLU: x if x > 0 else alpha * x, with a *learned* slope.

    Lecture: why fix the leaky slope at 0.01? Make ``alpha`` a parameter and
    update it by gradient descent like the weights (see
    ``derivatives.prelu_backward``).

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
        alpha: a number, or an array that broadcasts against ``x`` with numpy's
            rules -- typically one slope per channel on the last axis, e.g.
            x of shape (batch, C) and alpha of shape (C,).
    Returns:
        array with the broadcast shape of ``x`` and ``alpha`` (the shape of
        ``x`` in the usual case), in x's floating dtype (bool/int -> float64),
        also when alpha is a float64 array and x is float32.

    Edge cases:
        * prelu(+inf) = +inf, prelu(-inf) = -inf (for alpha > 0), NaN -> NaN.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("prelu")


def elu(x, alpha=1.0):
    """Exponential linear unit: x if x > 0 else alpha * (e^x - 1), elementwise.

    Lecture: linear for x > 0 like relu, but a smooth exponential decay towards
    -alpha for x < 0, so some gradient always flows and outputs are closer to
    zero-centred -- at the price of an exp again.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
        alpha: a number, the negative saturation level (default 1.0).
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * elu(+inf) = +inf, elu(-inf) = -alpha, NaN -> NaN.
        * No overflow warning for |x| <= 1e6, e.g. elu(1000.0) = 1000.0.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("elu")


def gelu(x):
    """Gaussian error linear unit, tanh form, elementwise:

        gelu(x) = 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))

    A smooth relu-like curve (x times a soft gate in (0, 1)), the default in
    Transformers. It dips slightly below 0 for negative x and -> 0 as x -> -inf.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * NaN -> NaN; gelu(+inf) = +inf. At -inf the formula gives
          -inf * 0 = NaN; the contract does not ask for that limit.
        * No overflow warning for |x| <= 1e6 (x^3 is at most 1e18).
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("gelu")


def swish(x, beta=1.0):
    """Swish: x * sigmoid(beta * x), elementwise (SiLU when beta = 1).

    Like gelu, x times a soft gate: ~x for large x, ~0 for very negative x,
    smooth, with a small negative dip.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
        beta: a number, the gate's sharpness (default 1.0; large beta -> relu).
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * NaN -> NaN; swish(+inf) = +inf. At -inf, -inf * 0 = NaN (the
          contract does not ask for that limit). Finite inputs must raise no
          warning, e.g. swish(-1e6) = -0.0.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("swish")
