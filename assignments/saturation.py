# Student version of saturation.py, generated from the reference solution.
# Replace every `raise NotImplementedError` with your code; keep the names and signatures.
"""Saturation, vanishing gradients, non-zero-centred outputs and the cost of exp.

The rest of the lecture "Better activation functions", as small numpy experiments:

1. Saturation: with a fan-in of a thousand, "a sum of a thousand terms" easily reaches
   2 or 3, so weights drawn N(0, 1) push almost every sigmoid / tanh unit to a bound,
   where its gradient vanishes; weights drawn N(0, 1/n) keep the sum near 1 and few
   units saturate.
2. Vanishing gradients: every sigmoid layer multiplies the gradient on its way back by
   sigma'(a) <= 1/4, so the gradient reaching the first layer shrinks geometrically
   with depth; tanh and ReLU lose much less.
3. Non-zero-centred outputs: a neuron fed by sigmoid outputs gets weight gradients
   dL/dw_i = delta * h_i whose signs are all the sign of the shared "red term" delta,
   because every "blue term" h_i is positive; gradient descent can then only move
   all weights up or all down, and reaches an optimum that needs one weight up and
   another down by zig-zagging, in more steps.
4. The cost of exp: sigmoid, tanh, ELU, GELU... against a ReLU that is one comparison.

Every experiment returns what it produced (inputs, weights, pre-activations, paths,
raw timings), so its claim can be checked from the data, and takes a seed. The
``plot_*`` functions draw a returned result on a matplotlib ``Figure`` (no pyplot);
``python saturation.py OUT_DIR`` runs the experiments and writes all the figures as PNGs
(a few seconds; ``lab.py`` shows each step).

This module uses numpy only (it does not import activations.py): the three lecture
activations it needs come from ``lecture_activation`` below.
"""

import time

import numpy as np


# ---------------------------------------------------------------------------
# The three lecture activations, numpy only
# ---------------------------------------------------------------------------

def lecture_activation(name):
    """Return the pair ``(f, f_grad)`` for "sigmoid", "tanh" or "relu".

    ``f(a)`` is the activation and ``f_grad(a)`` its derivative, both evaluated
    elementwise at the pre-activation ``a`` (not at the output), both returning a
    float64 numpy array of the shape of ``np.asarray(a)``:

    - "sigmoid": sigma(a) = 1 / (1 + e^-a), sigma'(a) = sigma(a) (1 - sigma(a)).
      It must not overflow for large |a| (no warning at a = -1000).
    - "tanh":    tanh(a),                   tanh'(a) = 1 - tanh(a)^2.
    - "relu":    max(0, a),                 relu'(a) = 1 if a > 0 else 0 (0 at a = 0).

    Any other name raises ``ValueError``. Use numpy only.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("lecture_activation")


# ---------------------------------------------------------------------------
# 1. Saturation
# ---------------------------------------------------------------------------

def saturated_fraction(h, low, high, eps=1e-2):
    """Fraction of the entries of ``h`` that are within ``eps`` of a bound.

    An activation with outputs in [low, high] is saturated where its output is pinned
    to a bound: ``h <= low + eps`` or ``h >= high - eps`` (both inclusive). There its
    gradient vanishes (for the sigmoid, sigma (1 - sigma) ~ 0 near 0 and near 1), so a
    saturated neuron passes almost no gradient back to its weights. Sigmoid: low=0,
    high=1; tanh: low=-1, high=1.

    h:    array-like of any shape (a number, a list, an array of outputs, e.g.
          (n_samples, n_units)); every entry counts once.
    Returns a Python float in [0, 1]: (number of saturated entries) / h.size.
    NaN entries count as not saturated. Raises ``ValueError`` if ``h`` is empty,
    ``low >= high`` or ``eps < 0``. ``h`` is not modified.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("saturated_fraction")


def standardised_inputs(n_samples, n_in, rng):
    """Given: a data matrix of shape (n_samples, n_in) whose every column (feature)
    has mean 0 and standard deviation 1 over the samples, as the lecture's
    "the inputs are typically standardized". Raw features with assorted means and
    scales are drawn from ``rng`` (a ``np.random.Generator``) and standardised."""
    means = rng.uniform(-5.0, 5.0, size=n_in)
    scales = rng.uniform(0.5, 3.0, size=n_in)
    raw = means + scales * rng.standard_normal((n_samples, n_in))
    return (raw - raw.mean(axis=0)) / raw.std(axis=0)


WEIGHT_SCALES = ("N(0,1)", "N(0,1/n)")


def saturation_experiment(n_in=1000, n_units=100, n_samples=200, eps=1e-2, seed=0):
    """Saturated sigmoid and tanh units in one layer of fan-in ``n_in``.

    The lecture: "if there are like a thousand neurons in one layer then this is a sum
    of thousand terms and even with very small weights a sum of thousand terms
    reaching a value of 2 or 3 is not really surprising". The pre-activation of a unit
    is a = sum_i w_i x_i; with standardised x and w_i ~ N(0, s^2) it is about
    N(0, n_in s^2): for s = 1 its standard deviation is sqrt(1000) ~ 32, far past the
    2.5 where the sigmoid is already ~1; for s^2 = 1/n_in it is about 1.

    Steps, in this order, with ``rng = np.random.default_rng(seed)``:
    1. ``x = standardised_inputs(n_samples, n_in, rng)``, shape (n_samples, n_in).
    2. Two weight matrices of shape (n_in, n_units), drawn in this order:
       "N(0,1)":   ``rng.standard_normal((n_in, n_units))``,
       "N(0,1/n)": ``rng.standard_normal((n_in, n_units)) / np.sqrt(n_in)``.
    3. For each, the pre-activations ``a = x @ W`` (n_samples, n_units) (no bias).
    4. For each, the saturated fraction of sigmoid(a) on [0, 1] and of tanh(a) on
       [-1, 1], with ``saturated_fraction(..., eps)`` (activations from
       ``lecture_activation``).

    Returns a dict:
      "x":               (n_samples, n_in) float array, the inputs,
      "weights":         {"N(0,1)": W, "N(0,1/n)": W}, each (n_in, n_units),
      "pre_activations": {"N(0,1)": a, "N(0,1/n)": a}, each (n_samples, n_units),
      "fractions":       {"sigmoid": {"N(0,1)": float, "N(0,1/n)": float},
                          "tanh":    {"N(0,1)": float, "N(0,1/n)": float}},
      "eps": float, "n_in": int, "seed": int.
    Expected: N(0,1) weights saturate most units (about 0.88 for sigmoid, 0.93 for
    tanh at eps = 0.01), N(0,1/n) weights few (about 0 and 0.01).
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("saturation_experiment")


# ---------------------------------------------------------------------------
# 2. Vanishing gradients
# ---------------------------------------------------------------------------

def first_layer_grad_norms(depths, activation="sigmoid", activation_grad=None, width=64,
                           n_samples=32, weight_scale=1.0, seed=0):
    """Norm of the gradient reaching the first layer of a deep stack, per depth.

    The network of depth D (D >= 1 layers, no biases, row-vector convention):
        h_0 = x,   a_l = h_{l-1} @ W_l,   h_l = f(a_l)   for l = 1..D,
        loss L = sum of all entries of h_D.
    The gradient dL/dW_1 is found by backpropagation through the D layers (the chain rule,
    from the loss back to the first weights). The lecture: on that path every layer's
    dh_l/da_l, f'(a_l), is a factor, and for the sigmoid it is at most 1/4: the gradient
    reaching W_1 shrinks geometrically with depth ("vanishing gradients").

    ``activation``: "sigmoid", "tanh" or "relu" (then ``activation_grad`` is ignored
    and both come from ``lecture_activation``), or a callable f(a), in which case
    ``activation_grad`` must be the callable f'(a) (else ``ValueError``).

    With ``rng = np.random.default_rng(seed)`` draw, in this order:
      ``x = rng.standard_normal((n_samples, width))``,
      ``weights = rng.standard_normal((max(depths), width, width)) * weight_scale / np.sqrt(width)``.
    The network of depth D uses ``weights[0], ..., weights[D-1]`` (the first D layers
    of one shared stack), so every depth sees the same first layers.

    depths: a non-empty sequence of integers >= 1 (else ``ValueError``).
    Returns a dict:
      "depths":  (k,) int array, the depths as given,
      "norms":   (k,) float array, the Frobenius norm of dL/dW_1 for each depth,
      "x":       (n_samples, width) float array,
      "weights": (max(depths), width, width) float array,
      "weight_scale": float, "seed": int.
    Expected with weight_scale = 1: the sigmoid loses a factor of about 4 per layer
    (norm ratio ~0.23 per layer), tanh about 0.9, ReLU about 0.74 (half of its units pass
    no gradient; He initialisation, weight_scale = sqrt(2), keeps it near 1).
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("first_layer_grad_norms")


# ---------------------------------------------------------------------------
# 3. Non-zero-centred outputs and zig-zag updates
# ---------------------------------------------------------------------------

def weight_gradients(delta, h):
    """Gradients of the loss with respect to the weights of one neuron, per example.

    The neuron computes a = sum_i w_i h_i + b. By the chain rule
        dL/dw_i = (dL/dy * dy/dh * dh/da) * h_i = delta * h_i,
    where delta = dL/da is the lecture's red term, shared by every weight, and h_i
    (the neuron's inputs, the outputs of the previous layer) are the blue terms.

    delta: shape (n,), one delta per example (or a number, for one example);
    h:     shape (n, d), the d inputs of each example (or (d,) for one example).
    Returns a float64 array of shape (n, d) (or (d,)): row k is delta[k] * h[k].
    Shapes that do not match raise ``ValueError``. Inputs are not modified.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("weight_gradients")


def sign_mixed_fraction(grads):
    """Fraction of gradient vectors that mix signs (some entry > 0 and some entry < 0).

    Such a vector points into a "mixed" quadrant / orthant: it moves some weights up
    and others down. A neuron fed by sigmoid outputs never gets one (all its gradient
    entries share the sign of delta), so its fraction is 0; with tanh inputs, which are
    zero-centred, most vectors mix.

    grads: shape (n, d), one gradient vector per row, or (d,) for a single vector.
    Zero entries count as neither sign. Returns a Python float in [0, 1] (0.0 or 1.0
    for a single vector). Raises ``ValueError`` for an empty set of vectors (n = 0)
    or an input that is not 1-D or 2-D.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("sign_mixed_fraction")


def sign_mixing_experiment(n_vectors=1000, n_inputs=10, seed=0):
    """Signs of weight gradients of a neuron fed by sigmoid outputs versus tanh outputs.

    With ``rng = np.random.default_rng(seed)`` draw, in this order, the previous
    layer's pre-activations ``a = rng.standard_normal((n_vectors, n_inputs))`` and the
    upstream terms ``delta = rng.standard_normal(n_vectors)``. The neuron's inputs are
    h = sigmoid(a) (all in (0, 1): positive blue terms) or h = tanh(a) (in (-1, 1),
    zero-centred); its weight gradients are ``weight_gradients(delta, h)``.

    Returns a dict:
      "pre_activations": (n_vectors, n_inputs) array a,
      "delta":           (n_vectors,) array,
      "h":               {"sigmoid": array, "tanh": array}, each (n_vectors, n_inputs),
      "grads":           {"sigmoid": array, "tanh": array}, each (n_vectors, n_inputs),
      "fractions":       {"sigmoid": float, "tanh": float}, by ``sign_mixed_fraction``.
    Expected: sigmoid 0 exactly; tanh about 1 - 2^(1 - n_inputs) (0.998 for 10 inputs).
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("sign_mixing_experiment")


def same_sign_direction(grad):
    """The best update direction left when every step must be all-positive or all-negative.

    With sigmoid inputs a step -lr * grad can only point into the all-positive or the
    all-negative orthant (zeros allowed: "one is 0 and the other is negative" is
    allowed). Of those directions, take the one closest to the steepest-descent
    direction v = -grad: its projection onto the positive orthant, max(v, 0), or onto
    the negative orthant, min(v, 0), whichever has the larger Euclidean norm (the
    positive one on a tie). Like -grad, it never increases the loss to first order.

    grad: shape (d,). Returns a float64 array of shape (d,) whose entries are all >= 0
    or all <= 0. A zero gradient gives a zero direction.
    Example: grad = (-2, 2) -> v = (2, -2) -> (2, 0) (tie, positive wins);
             grad = (-1, 3) -> v = (1, -3) -> (0, -3).
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("same_sign_direction")


def descent_path(w0, w_star, lr=0.1, tol=1e-3, max_steps=10_000, same_sign=False):
    """Gradient descent on the toy loss L(w) = 0.5 * ||w - w*||^2, recording the path.

    The gradient is w - w*. Starting at w0, repeat while ||w - w*|| > tol and fewer
    than ``max_steps`` steps were taken:
        free (same_sign=False):  w <- w - lr * (w - w*)
        restricted (same_sign=True): w <- w + lr * same_sign_direction(w - w*)
    The restricted run is a neuron fed by sigmoid outputs: every update moves all the
    weights the same way, so reaching w* = (1, -1) from (-1, 1) (one weight up, the
    other down) takes a zig-zag path and more steps.

    w0, w_star: shape (d,). Returns a float64 array of shape (steps + 1, d): row 0 is
    w0, row t the weights after t steps; the last row is within ``tol`` of w* unless
    ``max_steps`` ran out. ``w0`` and ``w_star`` are not modified.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("descent_path")


def zigzag_experiment(w0=(-1.0, 1.0), w_star=(1.0, -1.0), lr=0.1, tol=1e-3, max_steps=10_000):
    """Given: free against same-sign-restricted gradient descent on the toy loss.

    Returns a dict: "w0", "w_star" (arrays (d,)), "lr", "tol" (floats),
    "free" and "restricted" (paths from ``descent_path``, (steps + 1, d) arrays) and
    "steps": {"free": int, "restricted": int} (their lengths minus one).
    """
    free = descent_path(w0, w_star, lr, tol, max_steps, same_sign=False)
    restricted = descent_path(w0, w_star, lr, tol, max_steps, same_sign=True)
    return {"w0": np.asarray(w0, dtype=np.float64), "w_star": np.asarray(w_star, dtype=np.float64),
            "lr": float(lr), "tol": float(tol), "free": free, "restricted": restricted,
            "steps": {"free": len(free) - 1, "restricted": len(restricted) - 1}}


# ---------------------------------------------------------------------------
# 4. The cost of exp
# ---------------------------------------------------------------------------

def time_activations(functions, sizes=(10**5, 10**6), repeat=3, baseline="relu", seed=0):
    """Wall-clock time per element of each activation, measured side by side.

    functions: dict name -> callable f(x) taking a float64 array (e.g. "relu",
    "sigmoid", "tanh", "elu", "gelu"); must contain ``baseline``, else ``ValueError``.
    For each size n in ``sizes``: draw ``x = rng.standard_normal(n)`` once
    (``rng = np.random.default_rng(seed)``), call every function once on it unmeasured
    (warm-up), then ``repeat`` rounds, each timing every function once on the same x
    with ``time.perf_counter`` (interleaved, so slow phases of a noisy machine hit every
    function alike).

    Returns a dict:
      "names":       list of the names, in the order of ``functions``,
      "sizes":       (s,) int array,
      "seconds":     {name: (s, repeat) float array}, every raw measurement,
      "per_element": {name: (s,) array}, the fastest of the repeats divided by n,
      "relative":    {name: (s,) array}, per_element / per_element[baseline],
      "baseline":    the baseline's name.
    Only ratios measured in one run mean anything; absolute times depend on the machine.
    The lecture: sigmoid, tanh and ELU need exp and cost more than ReLU, one comparison.
    Keep sizes small: the default takes about 0.03 s for relu, sigmoid, tanh and exp.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("time_activations")


# ---------------------------------------------------------------------------
# Figures (given)
# ---------------------------------------------------------------------------

def plot_saturation(result):
    """Histograms of sigmoid and tanh outputs for both weight scales, saturated bands shaded."""
    from matplotlib.figure import Figure  # only drawing needs matplotlib
    fig = Figure(figsize=(10, 6.5))
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.08, top=0.9, wspace=0.25, hspace=0.35)
    axes = fig.subplots(2, 2)
    eps, n = result["eps"], result["n_in"]
    for row, (name, low, high) in enumerate([("sigmoid", 0.0, 1.0), ("tanh", -1.0, 1.0)]):
        f, _ = lecture_activation(name)
        for col, scale in enumerate(WEIGHT_SCALES):
            ax = axes[row, col]
            h = f(result["pre_activations"][scale]).ravel()
            frac = saturated_fraction(h, low, high, eps)
            ax.hist(h, bins=50, range=(low, high), color="tab:blue")
            ax.axvspan(low, low + eps, color="tab:red", alpha=0.3, label=f"within {eps:g} of a bound")
            ax.axvspan(high - eps, high, color="tab:red", alpha=0.3)
            ax.set_title(f"{name}, weights {scale}, n = {n}: {frac:.0%} saturated")
            ax.set_xlabel(f"{name}(a)")
            ax.set_ylabel("count (samples x units)")
            ax.legend(loc="upper center", fontsize=8)
    fig.suptitle("A sum of a thousand terms: N(0,1) weights saturate the layer, N(0,1/n) do not")
    return fig


def plot_grad_norms(results):
    """Gradient norm at the first layer against depth, log scale, one line per activation.

    results: dict name -> result of ``first_layer_grad_norms`` (its "depths", "norms" and,
    when present, "weight_scale": the legend gives each line's weight scale, and a ReLU run
    at the 1/sqrt(n) scale says on the figure why it still loses gradient)."""
    from matplotlib.figure import Figure  # only drawing needs matplotlib
    fig = Figure(figsize=(7.5, 5))
    fig.subplots_adjust(left=0.11, right=0.97, bottom=0.11, top=0.92)
    ax = fig.subplots()
    for name, r in results.items():
        scale = float(r.get("weight_scale", 1.0))
        init = ("He init, std sqrt(2/n)" if np.isclose(scale, np.sqrt(2.0))
                else "std 1/sqrt(n)" if scale == 1.0 else f"std {scale:.3g}/sqrt(n)")
        d, norms = np.asarray(r["depths"]), np.asarray(r["norms"])
        factor = (norms[-1] / norms[0]) ** (1 / max(d[-1] - d[0], 1))
        ax.semilogy(d, norms, "o-", ms=3, label=f"{name} ({init}): x{factor:.2f} per layer")
    if "sigmoid" in results:
        r = results["sigmoid"]
        d = np.asarray(r["depths"])
        ax.semilogy(d, r["norms"][0] * 0.25 ** (d - d[0]), "k--", lw=1,
                    label="x 1/4 per layer (max of sigmoid')")
    if "relu" in results and float(results["relu"].get("weight_scale", 1.0)) < 1.2:
        ax.text(0.98, 0.55, "ReLU here has the others' weight scale 1/sqrt(n): half its units\n"
                "pass no gradient, so it loses about 1/sqrt(2) per layer. He init\n"
                "(std sqrt(2/n), weight_scale = sqrt(2)) keeps it level.",
                transform=ax.transAxes, ha="right", fontsize=8,
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.7"})
    ax.set_xlabel("depth (layers between the first weights and the loss)")
    ax.set_ylabel("||dL/dW_1||")
    ax.set_title("Vanishing gradients: the first layer's gradient against depth")
    ax.legend(loc="lower left", fontsize=8)
    return fig


def plot_sign_mixing(result):
    """The first two entries (dL/dw_1, dL/dw_2) of every gradient vector, sigmoid vs tanh inputs."""
    from matplotlib.figure import Figure  # only drawing needs matplotlib
    fig = Figure(figsize=(10, 4.8))
    fig.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.78, wspace=0.1)
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    lim = np.abs(result["grads"]["tanh"][:, :2]).max() * 1.05
    for ax, name in zip(axes, ("sigmoid", "tanh")):
        g = result["grads"][name]
        frac = sign_mixed_fraction(g)
        ax.fill_between([0, lim], 0, -lim, color="tab:red", alpha=0.08)
        ax.fill_between([-lim, 0], 0, lim, color="tab:red", alpha=0.08)
        ax.scatter(g[:, 0], g[:, 1], s=4)
        ax.axhline(0, color="k", lw=0.5)
        ax.axvline(0, color="k", lw=0.5)
        ax.set_title(f"inputs h = {name}(a)\n{frac:.1%} of the gradient vectors mix signs")
        ax.set_xlabel("dL/dw_1 = delta * h_1")
        ax.set_ylabel("dL/dw_2 = delta * h_2")
    axes[0].set_xlim(-lim, lim)
    axes[0].set_ylim(-lim, lim)
    fig.suptitle("Non-zero-centred inputs: with h > 0 the red term's sign decides every entry\n"
                 "(shaded: the mixed-sign quadrants, out of reach with sigmoid inputs)")
    return fig


def plot_zigzag(result):
    """Both descent paths on the contours of L(w) = 0.5 ||w - w*||^2."""
    from matplotlib.figure import Figure  # only drawing needs matplotlib
    fig = Figure(figsize=(6.5, 6))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.1, top=0.93)
    ax = fig.subplots()
    w0, ws = result["w0"], result["w_star"]
    pts = np.vstack([result["free"], result["restricted"]])
    lo, hi = pts.min(axis=0) - 0.4, pts.max(axis=0) + 0.4
    u, v = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    ax.contour(u, v, 0.5 * ((u - ws[0]) ** 2 + (v - ws[1]) ** 2), levels=12, colors="0.75", linewidths=0.8)
    for key, style, label in [("free", "o-", "free gradient descent"),
                              ("restricted", "s-", "same-sign steps only (sigmoid inputs)")]:
        p = result[key]
        ax.plot(p[:, 0], p[:, 1], style, ms=2.5, lw=1, label=f"{label}: {len(p) - 1} steps")
    ax.plot(*w0, "k^", ms=9, label="start w0")
    ax.plot(*ws, "r*", ms=14, label="optimum w*")
    ax.set_aspect("equal")
    ax.set_xlabel("w_1")
    ax.set_ylabel("w_2")
    ax.set_title(f"Zig-zag updates (lr = {result['lr']:g}, stop within {result['tol']:g} of w*)")
    ax.legend(loc="upper right", fontsize=8)
    return fig


NO_EXP = ("relu", "leaky_relu", "relu6", "prelu")
LECTURE_FORMS = ("relu", "sigmoid", "tanh", "exp alone")


def plot_timings(result):
    """Bar chart of the time per element relative to the baseline, at the largest size."""
    from matplotlib.figure import Figure  # only drawing needs matplotlib
    from matplotlib.patches import Patch
    fig = Figure(figsize=(7.5, 4.8))
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.17, top=0.92)
    ax = fig.subplots()
    names = result["names"]
    rel = [result["relative"][name][-1] for name in names]
    # exp (or tanh, made of exp) inside, or not: the lecture's question is what exp costs
    colours = ["tab:green" if n == result["baseline"] else "tab:blue" if n in NO_EXP else "tab:orange"
               for n in names]
    bars = ax.bar(names, rel, color=colours)
    ax.bar_label(bars, fmt="%.1fx")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.legend(handles=[Patch(color="tab:orange", label="computes exp (or tanh)"),
                       Patch(color="tab:blue", label="no exp")], loc="upper left", fontsize=8)
    own = [n for n in names if n not in LECTURE_FORMS]
    if own:
        ax.set_xlabel(f"{', '.join(own)}: your activations.py, with the array contract's extra "
                      "work (dtype, NaN, safety);\ncompare them among themselves, e.g. leaky_relu "
                      "(no exp) with elu. The rest: plain numpy forms.", fontsize=8)
    ns = 1e9 * result["per_element"][result["baseline"]][-1]
    ax.set_ylabel(f"time per element / {result['baseline']}'s ({ns:.2f} ns here)")
    ax.set_title(f"The cost of exp: {int(result['sizes'][-1]):,} float64 elements, fastest of "
                 f"{result['seconds'][names[0]].shape[1]}")
    return fig


def timed_activations():
    """The activations the lecture compares, for ``time_activations``: relu, sigmoid and
    tanh from ``lecture_activation``, plus leaky_relu, elu, gelu and swish from your
    ``activations.py`` when it sits next to this file and they are written."""
    acts = {name: lecture_activation(name)[0] for name in ("relu", "sigmoid", "tanh")}
    try:
        import activations
    except ImportError:
        return acts
    probe = np.linspace(-3.0, 3.0, 7)
    for name in ("leaky_relu", "elu", "gelu", "swish"):
        try:
            getattr(activations, name)(probe)
        except Exception:  # not written yet (NotImplementedError) or broken: leave it out
            continue
        acts[name] = getattr(activations, name)
    return acts


def main(out_dir="out", sizes=(10**5, 10**6)):
    """Run every experiment step by step (``lab.Lab``: progress, a bound on a hang) and write
    each figure to ``out_dir`` as a PNG as soon as it is drawn; return the paths.

    The vanishing-gradient run gives ReLU He initialisation (``weight_scale = sqrt(2)``, the
    lecture's advice for ReLU), sigmoid and tanh the 1/sqrt(n) scale."""
    from lab import Lab  # only the script needs it

    lab = Lab(out_dir, steps=12)
    saturation = lab.run("saturation_experiment(): one layer of fan-in 1000", saturation_experiment)
    lab.figure("saturation.png", plot_saturation, saturation)
    scales = {"sigmoid": 1.0, "tanh": 1.0, "relu": np.sqrt(2.0)}
    norms = {name: lab.run(f"first_layer_grad_norms(range(1, 21), {name!r}, weight_scale={scale:.3g})",
                           first_layer_grad_norms, range(1, 21), name, weight_scale=scale)
             for name, scale in scales.items()}
    lab.figure("vanishing_gradients.png", plot_grad_norms, norms)
    lab.figure("sign_mixing.png", plot_sign_mixing,
               lab.run("sign_mixing_experiment()", sign_mixing_experiment))
    lab.figure("zigzag.png", plot_zigzag, lab.run("zigzag_experiment()", zigzag_experiment))
    timings = lab.run(f"time_activations(sizes={tuple(int(n) for n in sizes)})", time_activations,
                      {**timed_activations(), "exp alone": np.exp}, sizes=sizes)
    lab.figure("cost_of_exp.png", plot_timings, timings)
    lab.say("What you should see: N(0,1) weights saturate most sigmoid and tanh units, N(0,1/n) "
            "almost none; the sigmoid's first-layer gradient falls about x 1/4 per layer, tanh's "
            "and He-initialised ReLU's hardly; no sigmoid-fed gradient mixes signs, so the "
            "same-sign path needs about twice the steps; sigmoid, tanh and ELU cost more than ReLU.")
    return lab.written


if __name__ == "__main__":
    from lab import script

    script(main)
