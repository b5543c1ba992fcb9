# Student version of derivatives.py, generated from the reference solution.
# Replace every `raise NotImplementedError` with your code; keep the names and signatures.
"""Derivatives of the activations, and the tools to check them numerically.

Backpropagation multiplies, at every layer, by the activation's derivative
dh/da. Where that derivative is ~0 (a saturated sigmoid or tanh, a relu with
negative input) the gradient vanishes and the weights below stop learning; a
relu unit whose input is negative on every example gets exactly 0 and stays
dead. The leaky / parametric / exponential variants keep a non-zero slope for
x < 0.

Every ``*_grad(x, ...)`` is the derivative with respect to the input,
evaluated at the input ``x`` (not at the activation's output), elementwise,
under the course's array contract: ``x`` a number, nested list or array of any
shape (0-d too) of bool, int or float dtype; result shaped like
``np.asarray(x)``; floating input keeps its dtype, bool/int give float64 (a
derivative is never bool/int); the input is never written to; nothing is
printed; no overflow / invalid / divide warning for finite |x| <= 1e6.

At a kink any value between the left and right derivative is a valid
subgradient; we use PyTorch's choice: relu'(0) = 0, relu6'(0) = relu6'(6) = 0,
leaky_relu'(0) = alpha, elu'(0) = alpha, d prelu/dx at 0 = alpha.
The piecewise derivatives come from comparisons, and NaN compares False, so at
a NaN input they give the x <= 0 value (the contract only promises NaN -> NaN
for the activations themselves).
"""
import numpy as np

from activations import sigmoid


def _as_float(x):
    """``np.asarray(x)`` as a floating array: bool and int become float64,
    floating dtypes (float16/32/64) are kept. Never copies a floating array,
    so only read from the result."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    return x


def sigmoid_grad(x):
    """Derivative of the sigmoid: sigma'(x) = sigma(x) * (1 - sigma(x)).

    Lecture: at most 1/4 (at x = 0) and ~0 once the unit saturates (|x| beyond
    a few units) -- the vanishing gradient that stalls training.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * sigmoid_grad(+-inf) = 0, NaN -> NaN, no overflow for x = +-1000.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("sigmoid_grad")


def tanh_grad(x):
    """Derivative of tanh: 1 - tanh(x)^2.

    Lecture: 1 at x = 0, ~0 once tanh saturates at +-1 -- zero-centred, but the
    gradient still vanishes at both ends.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * tanh_grad(+-inf) = 0, NaN -> NaN; no overflow warning for |x| <= 1e6.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("tanh_grad")


def relu_grad(x):
    """Derivative of relu: 1 where x > 0, else 0.

    Lecture: no saturation for x > 0 (the gradient passes through unchanged),
    but exactly 0 for x < 0 -- a unit whose input is negative for every example
    gets no gradient for its weights or bias and stays dead.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        float array shaped like ``np.asarray(x)`` (x's float dtype, bool/int ->
        float64) -- not a bool array.

    Edge cases:
        * Kink: relu'(0) = 0 (PyTorch's choice). relu'(+inf) = 1, relu'(-inf) = 0.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("relu_grad")


def relu6_grad(x):
    """Derivative of relu6: 1 where 0 < x < 6, else 0.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        float array shaped like ``np.asarray(x)`` (x's float dtype, bool/int ->
        float64).

    Edge cases:
        * Kinks: relu6'(0) = relu6'(6) = 0 (PyTorch's choice); 0 at +-inf.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("relu6_grad")


def leaky_relu_grad(x, alpha=0.01):
    """Derivative of leaky_relu: 1 where x > 0, else alpha.

    Lecture: the slope alpha on the negative side means some gradient always
    flows, so a unit cannot die.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
        alpha: the negative-side slope, a number (default 0.01).
    Returns:
        float array shaped like ``np.asarray(x)`` (x's float dtype, bool/int ->
        float64).

    Edge cases:
        * Kink: leaky_relu'(0) = alpha (PyTorch's choice).
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("leaky_relu_grad")


def elu_grad(x, alpha=1.0):
    """Derivative of elu(x) = x if x > 0 else alpha * (e^x - 1), at the input x.

    Lecture: for x < 0 the gradient decays smoothly instead of being cut to 0.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
        alpha: a number (default 1.0).
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * Kink: elu'(0) = alpha (PyTorch's choice). elu'(+inf) = 1,
          elu'(-inf) = 0, NaN -> NaN; no overflow warning for |x| <= 1e6.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("elu_grad")


def gelu_grad(x):
    """Derivative of gelu's tanh form, gelu(x) = 0.5 x (1 + tanh(u)) with
    u = sqrt(2/pi) (x + 0.044715 x^3), at the input x.

    0.5 at x = 0, ~1 for large x, ~0 for very negative x, and negative for
    x < -0.75 where gelu dips (down to about -0.13 near x = -1.4).

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * NaN -> NaN; no warning for finite |x| <= 1e6 (x^3 <= 1e18 fits even
          float32).
        * float32 results within 1e-6 of the exact derivative, also near x = -5.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("gelu_grad")


def swish_grad(x, beta=1.0):
    """Derivative of swish(x) = x sigma(beta x), at the input x.

    0.5 at x = 0, -> 1 for large x, -> 0 for very negative x, and negative
    for beta x < -1.28 (swish is not monotonic; about -0.1 at worst).

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
        beta: a number (default 1.0).
    Returns:
        array shaped like ``np.asarray(x)``: float dtype kept, bool/int -> float64.

    Edge cases:
        * NaN -> NaN; no warning for finite |x| <= 1e6.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("swish_grad")


def prelu_grad(x, alpha):
    """Elementwise partial derivatives of prelu(x, alpha) = x if x > 0 else alpha x.

    Returns the pair ``(d/dx, d/dalpha)``: the derivative in x and in alpha,
    each at every element.

    Lecture: alpha is learned like a weight, so backprop needs d/dalpha too.

    Args:
        x: number, nested list or array of any shape; bool, int or float dtype.
        alpha: a number, or an array broadcasting against ``x`` (e.g. one slope
            per channel on the last axis).
    Returns:
        ``(d_x, d_alpha)``: two arrays, both with the broadcast shape of ``x``
        and ``alpha``, in x's floating dtype (bool/int -> float64).

    Edge cases:
        * Kink: d/dx at x = 0 is alpha (PyTorch's choice); d/dalpha at 0 is 0.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("prelu_grad")


def prelu_backward(grad_out, x, alpha):
    """Backward pass of a PReLU layer y = prelu(x, alpha).

    Given ``grad_out`` = dL/dy (shaped like y), return

        grad_x     = dL/dx     = grad_out * d prelu/dx, shaped like x;
        grad_alpha = dL/dalpha = grad_out * d prelu/dalpha, summed over every
                     position that shares that slope, shaped like alpha.

    A number alpha is one slope shared by every element: its gradient is the
    sum over all of them, returned as a 0-d array. A per-channel alpha of
    shape (C,) with x of shape (N, C) gets the sum over the N rows for each
    channel; an alpha of shape (1, C) keeps that shape. Then gradient descent
    can learn the slope: alpha -= learning_rate * grad_alpha.

    Args:
        grad_out: upstream gradient, shaped like prelu(x, alpha) (a number
            broadcasts, as for L = sum(y)).
        x: number, nested list or array of any shape; bool, int or float dtype.
        alpha: a number, or an array broadcasting against ``x``.
    Returns:
        ``(grad_x, grad_alpha)`` with the shapes of ``np.asarray(x)`` and
        ``np.asarray(alpha)``; floating, dtype by numpy's promotion of
        ``grad_out`` with x's floating dtype (float32 with float32 stays float32).
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("prelu_backward")


def numerical_derivative(f, x, h=1e-5):
    """Central difference (f(x + h) - f(x - h)) / (2h) of an elementwise ``f``.

    The tool to check an analytic derivative: its error is O(h^2) where f is
    smooth (it is wrong within h of a kink, where it averages the two slopes).

    Args:
        f: an elementwise function of an array (e.g. ``sigmoid``).
        x: number, nested list or array of any shape; converted to float64
            before evaluating f, so the difference is taken in float64.
        h: the step, a positive number.
    Returns:
        float64 array shaped like ``np.asarray(x)`` (f's outputs are converted
        to float64 before subtracting). ``f`` is called on whole arrays, twice.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("numerical_derivative")


def gradient_check(f, f_grad, x, h=1e-5):
    """Largest relative error between an analytic and a numerical derivative.

    For each element, with a = f_grad(x) and n = numerical_derivative(f, x, h):

        rel_err = |a - n| / max(1e-8, |a| + |n|)

    and the result is the largest rel_err over all elements of x (0.0 for an
    empty x). Around 1e-7 or less means the derivative is right; 1e-2 or more
    means it is wrong (or x is within h of a kink -- check away from kinks).
    The 1e-8 floor keeps a = n = 0 from dividing by zero.

    Args:
        f: an elementwise function, e.g. ``sigmoid``.
        f_grad: its claimed derivative, e.g. ``sigmoid_grad``.
        x: number, nested list or array of points (converted to float64).
        h: the central-difference step.
    Returns:
        a Python float (NaN if any error is NaN). Raises ValueError if
        ``f_grad(x)`` or ``f(x)`` is not shaped like x.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("gradient_check")
