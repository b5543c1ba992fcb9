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

    ### BEGIN HINTS
    values: Evaluate at the input: s = sigmoid(x) first (x * (1 - x) treats x as the output).
    values: 1 - sigma(x) = sigma(-x), which avoids the cancellation of 1 - 0.99999... for large x.
    values: sigmoid(x) * sigmoid(-x), with your overflow-safe sigmoid.
    ### END HINTS
    """
    ### BEGIN SOLUTION
    x = _as_float(x)
    return sigmoid(x) * sigmoid(-x)
    ### END SOLUTION


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

    ### BEGIN HINTS
    safe: 1 / cosh(x)^2 is the same function, but cosh overflows for |x| > 710.
    safe: The lecture's form 1 - tanh(x)^2 never overflows.
    safe: 1 - np.tanh(x) ** 2.
    ### END HINTS
    """
    ### BEGIN SOLUTION
    return 1 - np.tanh(_as_float(x)) ** 2
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x = _as_float(x)
    return (x > 0).astype(x.dtype)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x = _as_float(x)
    return ((x > 0) & (x < 6)).astype(x.dtype)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x = _as_float(x)
    return np.where(x > 0, 1, alpha).astype(x.dtype)
    ### END SOLUTION


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

    ### BEGIN HINTS
    values: Differentiate each branch of elu on its own; at the kink use alpha.
    values: For x < 0 the derivative of alpha (e^x - 1) is alpha e^x (which is also
        elu(x) + alpha); for x > 0 it is 1.
    values: np.where(x > 0, 1, alpha * np.exp(np.minimum(x, 0))).
    safe: As in elu: np.where computes both branches, so e^x overflows for large x.
    safe: Exponentiate only numbers <= 0.
    safe: alpha * np.exp(np.minimum(x, 0)) for the x <= 0 branch.
    ### END HINTS
    """
    ### BEGIN SOLUTION
    x = _as_float(x)
    return np.where(x > 0, 1, alpha * np.exp(np.minimum(x, 0)))
    ### END SOLUTION


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

    ### BEGIN HINTS
    values: The product rule on 0.5 x (1 + tanh(u)), then the chain rule for tanh(u).
    values: tanh'(u) = 1 - tanh(u)^2 and du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    values: gelu'(x) = 0.5 (1 + tanh(u)) + 0.5 x (1 - tanh(u)^2) du/dx.
    dtype: Near x = -5, 1 - tanh(u)^2 is about 1e-8: below float32's resolution
        next to 1, and x du/dx ~ 10 multiplies the error past 1e-6.
    dtype: Exact identities avoid the cancellation: 0.5 (1 + tanh(u)) = sigma(2u)
        and 0.5 (1 - tanh(u)^2) = 2 sigma(2u) sigma(-2u), with the safe sigmoid.
    dtype: gelu'(x) = sigma(2u) (1 + 2 x du/dx sigma(-2u)); keep the constants
        Python floats so float32 stays float32.
    ### END HINTS
    """
    ### BEGIN SOLUTION
    x = _as_float(x)
    c = (2 / np.pi) ** 0.5
    u = c * (x + 0.044715 * x**3)
    du = c * (1 + 3 * 0.044715 * x**2)
    # sigma(t) from e^-|t|, here rather than activations.sigmoid: its float32 accuracy at
    # t = -2u ~ -30 is what keeps gelu' within 1e-6 near x = -5
    z = np.exp(-np.abs(2 * u))
    s_pos, s_neg = np.where(u >= 0, 1 / (1 + z), z / (1 + z)), np.where(u >= 0, z / (1 + z), 1 / (1 + z))
    return s_pos * (1 + 2 * x * du * s_neg)
    ### END SOLUTION


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

    ### BEGIN HINTS
    values: The product rule on x * sigma(beta x), and the chain rule for sigma(beta x).
    values: d/dx sigma(beta x) = beta s (1 - s) with s = sigma(beta x) (the lecture's sigma').
    values: swish'(x) = s + beta x s (1 - s) = s (1 + beta x sigma(-beta x)).
    ### END HINTS
    """
    ### BEGIN SOLUTION
    x = _as_float(x)
    bx = beta * x
    return sigmoid(bx) * (1 + bx * sigmoid(-bx))
    ### END SOLUTION


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

    ### BEGIN HINTS
    values: prelu is linear in alpha: what multiplies alpha, and where?
    values: d/dx is 1 where x > 0, else alpha; d/dalpha is 0 where x > 0, else x.
    values: np.broadcast_arrays(x, alpha) first, then np.where(x > 0, 1, alpha) and
        np.where(x > 0, 0, x).
    ### END HINTS
    """
    ### BEGIN SOLUTION
    x = _as_float(x)
    x, alpha = np.broadcast_arrays(x, np.asarray(alpha, dtype=x.dtype))
    return np.where(x > 0, 1, alpha), np.where(x > 0, 0, x)
    ### END SOLUTION


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

    ### BEGIN HINTS
    values: One slope serves many positions: its gradient collects grad_out *
        d prelu/dalpha from every position that used it.
    values: Broadcasting alpha to x's shape prepended axes and stretched its size-1
        axes; sum over exactly those, keeping alpha's shape.
    values: lead = g.ndim - alpha.ndim; axes = tuple(range(lead)) + the axes
        lead + i where alpha.shape[i] == 1; g.sum(axis=axes, keepdims=True).reshape(alpha.shape).
    ### END HINTS
    """
    ### BEGIN SOLUTION
    x = _as_float(x)
    alpha = np.asarray(alpha, dtype=x.dtype)
    d_x, d_alpha = prelu_grad(x, alpha)
    grad_out = _as_float(grad_out)

    def sum_to(g, shape):  # undo broadcasting: sum over the axes it added or stretched
        lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1)
        return g.sum(axis=axes, keepdims=True).reshape(shape)

    return sum_to(grad_out * d_x, x.shape), sum_to(grad_out * d_alpha, alpha.shape)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    f_plus = np.asarray(f(x + h), dtype=np.float64)
    f_minus = np.asarray(f(x - h), dtype=np.float64)
    return (f_plus - f_minus) / (2 * h)
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    a = np.asarray(f_grad(x), dtype=np.float64)
    n = numerical_derivative(f, x, h)
    if a.shape != x.shape or n.shape != x.shape:
        raise ValueError(f"shape mismatch: x {x.shape}, f_grad(x) {a.shape}, numerical {n.shape}")
    err = np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))
    return float(np.max(err, initial=0.0))
    ### END SOLUTION
