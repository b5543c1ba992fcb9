"""Exercise: where a deep network's power comes from.

Two ideas from the lecture's opening:

1. Without a non-linearity, depth adds nothing. A stack of affine layers
   h -> h @ W_1 + b_1 -> ... -> h @ W_L + b_L is itself one affine map (``collapse``), so
   a deep "linear" network can only draw a straight decision boundary and fails on
   concentric circles, while the same network with ReLU units separates them
   (``circles_experiment``).
2. With ReLU, the difference of two units is a (soft) step (``relu_ramp``), and a sum of
   steps approximates any continuous 1-D function, better and better as their number
   grows: the "towers" picture behind the universal approximation theorem
   (``step_approximation``, ``sum_of_steps``).

Row-vector convention throughout: a layer maps h (n, d_in) to h @ W + b, with
W of shape (d_in, d_out) and b of shape (d_out,).

Run ``python linear_collapse.py OUT_DIR`` to run the experiment and write its figures as PNG
files (a few seconds; ``lab.py`` shows each step).
"""
import numpy as np

from datasets import make_circles
from mlp import ACTIVATIONS, init_params, predict_proba, train

# The deep network of the circles experiment: 2 inputs, 4 hidden layers of 16 units, 1 logit.
CIRCLES_SIZES = (2, 16, 16, 16, 16, 1)
N_POINTS = 256


def linear_forward(x, weights, biases):
    """Output of a stack of affine layers with no activation between them.

    h_0 = x, h_l = h_{l-1} @ W_l + b_l for l = 1..L; returns h_L.

    Parameters
    ----------
    x : array (n, d_0), one input per row (a single row of shape (d_0,) works too).
    weights : list of L arrays, W_l of shape (d_{l-1}, d_l), L >= 1.
    biases : list of L arrays, b_l of shape (d_l,).

    Returns
    -------
    array (n, d_L) (or (d_L,) for a single row).

    The lecture's point: every layer is linear in its input, so the whole stack is as
    well; ``collapse`` computes the single layer it equals.
    """
    ### BEGIN SOLUTION
    h = np.asarray(x)
    for W, b in zip(weights, biases):
        h = h @ W + b
    return h
    ### END SOLUTION


def collapse(weights, biases):
    """The single affine layer equal to a stack of affine layers.

    The lecture: with h = a in every layer, y is "just a multiplication of weights by the
    input", "as good as just having a single linear transformation". Find that layer:
    (W, b) such that ``linear_forward(x, weights, biases)`` equals ``x @ W + b`` for every
    x (up to rounding): a deep network without non-linearities is a linear model.

    Parameters
    ----------
    weights, biases : as in ``linear_forward`` (L >= 1 layers).

    Returns
    -------
    (W, b) : new arrays of shapes (d_0, d_L) and (d_L,); the inputs are not modified and
    not aliased (even for L = 1).

    ### BEGIN HINTS
    values: Substitute one layer into the next: write (h @ W_1 + b_1) @ W_2 + b_2 as
        h @ (something) + (something else), then go on down the stack.
    values: (h @ W_1 + b_1) @ W_2 + b_2 = h @ (W_1 W_2) + (b_1 W_2 + b_2): the weights
        multiply in the stack's order, and every bias is carried through the layers after it.
    values: Start from copies W, b = np.array(W_1), np.array(b_1); then for each later layer
        W, b = W @ W_l, b @ W_l + b_l.
    ### END HINTS
    """
    ### BEGIN SOLUTION
    W, b = np.array(weights[0]), np.array(biases[0])
    for W_next, b_next in zip(weights[1:], biases[1:]):
        W, b = W @ W_next, b @ W_next + b_next
    return W, b
    ### END SOLUTION


def relu_ramp(x, a, b):
    """A soft step made of two ReLUs: (relu(x - a) - relu(x - b)) / (b - a).

    0 for x <= a, 1 for x >= b, and the straight line (x - a) / (b - a) in between. Two
    ReLU units with the same slope and different offsets, one subtracted from the other,
    give this ramp; the closer a and b, the sharper the step. Sums of such steps build
    any continuous function (``sum_of_steps``), which is why a single ReLU layer is
    already a universal approximator.

    Parameters
    ----------
    x : number or array of any shape.
    a, b : numbers with a < b; anything else (a >= b, NaN) raises ValueError.

    Returns
    -------
    array shaped like ``np.asarray(x)``, values in [0, 1], exactly 0 for x <= a and
    exactly 1 for x >= b, x = -inf and +inf included: at +inf the formula above reads
    inf - inf (NaN), so the value there is its limit, 1. NaN stays NaN.

    ### BEGIN HINTS
    infinity: At x = +inf, relu(x - a) - relu(x - b) is inf - inf, which is NaN: the
        literal formula can't give the limit 1 there.
    infinity: For x >= b the difference is always b - a: it equals relu(x - a) capped at
        the ramp's height b - a, a form with no subtraction of two infinities.
    infinity: np.minimum(np.maximum(x - a, 0), b - a) / (b - a).
    ### END HINTS
    """
    ### BEGIN SOLUTION
    if not a < b:
        raise ValueError(f"relu_ramp needs a < b, got a={a!r}, b={b!r}")
    x = np.asarray(x)
    # relu(x - a) - relu(x - b) equals min(relu(x - a), b - a); the clipped form is exactly
    # 1 for x >= b (the difference rounds for large x) and avoids inf - inf at x = +inf.
    return np.minimum(np.maximum(x - a, 0), b - a) / (b - a)
    ### END SOLUTION


def circles_experiment(seed=0, lr=0.1, steps=500):
    """Train the same deep network on concentric circles, linear and with ReLU.

    Data: ``make_circles(256, seed=seed)`` (noise 0.1, factor 0.5). Network: sizes
    ``CIRCLES_SIZES`` = (2, 16, 16, 16, 16, 1), i.e. four hidden layers, started from the
    same ``init_params(CIRCLES_SIZES, seed=seed)`` for both runs, trained by
    ``mlp.train`` with learning rate ``lr`` for ``steps`` full-batch steps: once with the
    identity as hidden activation, once with ReLU (``mlp.ACTIVATIONS``).

    The identity network collapses into one affine layer (``collapse``): its decision
    boundary is a straight line, and no line separates a disc from the ring around it
    (the best one gets about two thirds right; gradient descent on the cross-entropy
    stays near chance, 0.5). The ReLU network learns a closed boundary and gets about
    99% of fresh points right.

    Returns
    -------
    dict with
      "x" : float64 (256, 2), "y" : int64 (256,), the training data;
      "seed" : int, the seed used for the data and the initialisation;
      "identity", "relu" : each a dict with "weights" and "biases" (lists of 5 arrays, the
        trained parameters, shapes as in ``init_params(CIRCLES_SIZES)``) and "losses"
        (float64 (steps,), the training loss before each step).
    """
    x, y = make_circles(N_POINTS, seed=seed)
    ### BEGIN SOLUTION
    weights, biases = init_params(CIRCLES_SIZES, seed=seed)
    result = {"x": x, "y": y, "seed": seed}
    for name in ("identity", "relu"):
        trained_w, trained_b, losses = train(x, y, weights, biases, *ACTIVATIONS[name], lr=lr, steps=steps)
        result[name] = {"weights": trained_w, "biases": trained_b, "losses": losses}
    return result
    ### END SOLUTION


def step_approximation(n_steps, f=np.sin, lo=0.0, hi=2 * np.pi):
    """Approximate f on [lo, hi] by a constant plus ``n_steps`` ReLU ramps.

    Split [lo, hi] at the n + 1 equally spaced knots t_0 = lo < t_1 < ... < t_n = hi. Ramp
    i (i = 0..n-1) rises from t_i to t_{i+1} with height f(t_{i+1}) - f(t_i):

        g(x) = f(t_0) + sum_i (f(t_{i+1}) - f(t_i)) * relu_ramp(x, t_i, t_{i+1})

    At every knot the steps taken so far add up to f(t_k), and between knots g is
    linear, so g is the piecewise-linear interpolant of f: its error on [lo, hi] is at most
    max|f''| (hi - lo)^2 / (8 n^2), shrinking as the number of steps grows. Each ramp is
    two ReLU units, so g is a one-hidden-layer ReLU network with 2n units; a ramp up
    followed by a ramp down is one of the lecture's "towers".

    Parameters
    ----------
    n_steps : int >= 1, the number of ramps (ValueError otherwise).
    f : vectorised function of a float64 array (e.g. ``np.sin``), called once on the knots.
    lo, hi : numbers with lo < hi (ValueError otherwise).

    Returns
    -------
    dict with "a", "b" (float64 (n_steps,), where each ramp starts and ends: the knots
    t_0..t_{n-1} and t_1..t_n), "heights" (float64 (n_steps,), each ramp's rise) and
    "offset" (float, f(lo)): everything ``sum_of_steps`` needs.
    """
    ### BEGIN SOLUTION
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps!r}")
    if not lo < hi:
        raise ValueError(f"step_approximation needs lo < hi, got lo={lo!r}, hi={hi!r}")
    knots = np.linspace(lo, hi, n_steps + 1)
    values = np.asarray(f(knots), dtype=np.float64)
    return {"a": knots[:-1], "b": knots[1:], "heights": np.diff(values), "offset": float(values[0])}
    ### END SOLUTION


def sum_of_steps(x, steps):
    """Evaluate offset + sum_i heights[i] * relu_ramp(x, a[i], b[i]).

    Parameters
    ----------
    x : number or array of any shape.
    steps : dict with "a", "b", "heights" (equal-length 1-D arrays, a[i] < b[i]) and
        "offset" (a number), as returned by ``step_approximation``.

    Returns
    -------
    float64 array shaped like ``np.asarray(x)``.
    """
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    total = np.full(x.shape, float(steps["offset"]))
    for a, b, height in zip(steps["a"], steps["b"], steps["heights"]):
        total += height * relu_ramp(x, a, b)
    return total
    ### END SOLUTION


def circles_figure(seed=0, result=None):
    """Decision boundaries of the identity and the ReLU network side by side, and their losses.

    Draws ``result``, a dict returned by ``circles_experiment`` (by default it runs
    ``circles_experiment(seed)``; the grader passes the result it already has). Three axes: the identity network's decision regions
    (a straight boundary), the ReLU network's (a closed curve around the inner circle),
    each titled with its accuracy on 1000 fresh circle points, and both training losses
    against the step (the identity network's stays near log 2, the loss of a coin flip).
    """
    if result is None:
        result = circles_experiment(seed)
    x, y = result["x"], result["y"]
    x_test, y_test = make_circles(1000, seed=int(result["seed"]) + 1)
    grid = np.linspace(-1.6, 1.6, 101)
    gx, gy = np.meshgrid(grid, grid)
    points = np.stack([gx.ravel(), gy.ravel()], axis=1)

    from matplotlib.figure import Figure  # only drawing needs matplotlib
    fig = Figure(figsize=(13, 4.2))
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.11, top=0.84, wspace=0.2)
    axes = fig.subplots(1, 3)
    for ax, name, label in zip(axes, ("identity", "relu"), ("identity activations", "ReLU activations")):
        g = ACTIVATIONS[name][0]
        params = result[name]["weights"], result[name]["biases"]
        accuracy = np.mean((predict_proba(x_test, *params, g) > 0.5) == y_test)
        p = predict_proba(points, *params, g).reshape(gx.shape)
        ax.contourf(gx, gy, p, levels=[0.0, 0.5, 1.0], colors=["#c6dbef", "#fdd0a2"])
        ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(*x[y == 0].T, s=10, c="#2171b5", label="outer (y = 0)")
        ax.scatter(*x[y == 1].T, s=10, c="#d94801", label="inner (y = 1)")
        ax.set(title=f"{label}, 4 hidden layers\naccuracy on fresh points: {accuracy:.2f}",
               xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal")
    axes[0].legend(loc="upper right", fontsize=8)
    for name, label in (("identity", "identity"), ("relu", "ReLU")):
        axes[2].plot(result[name]["losses"], label=label)
    axes[2].axhline(np.log(2), color="gray", linestyle="--", label="log 2 (coin flip)")
    axes[2].set(title="training loss (binary cross-entropy)", xlabel="gradient step", ylim=(0, None))
    axes[2].legend()
    return fig


def steps_figure(f=np.sin, lo=0.0, hi=2 * np.pi):
    """Universal approximation with ReLU steps: building blocks, approximations, error.

    Three axes: the 5 scaled ramps of ``step_approximation(5, f)`` (each a soft step made of
    two ReLUs) and their sum; f with that coarse approximation and a fine one (20 steps);
    and the largest error on [lo, hi] against the number of steps, on log-log axes,
    falling like 1 / n^2.
    """
    x = np.linspace(lo, hi, 1001)
    target = f(x)
    from matplotlib.figure import Figure  # only drawing needs matplotlib
    fig = Figure(figsize=(13, 4.2))
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.12, top=0.92, wspace=0.2)
    axes = fig.subplots(1, 3)

    coarse, fine = step_approximation(5, f, lo, hi), step_approximation(20, f, lo, hi)
    for a, b, height in zip(coarse["a"], coarse["b"], coarse["heights"]):
        axes[0].plot(x, height * relu_ramp(x, a, b), lw=1)
    axes[0].plot(x, sum_of_steps(x, coarse), "k", lw=2, label="f(lo) + sum of the 5 steps")
    axes[0].set(title="5 soft steps: height * relu_ramp(x, a, b)", xlabel="x")
    axes[0].legend(fontsize=8)

    axes[1].plot(x, target, "k", lw=4, alpha=0.3, label="f")
    axes[1].plot(x, sum_of_steps(x, coarse), label="5 steps")
    axes[1].plot(x, sum_of_steps(x, fine), label="20 steps")
    axes[1].set(title="f and its sum-of-steps approximations", xlabel="x")
    axes[1].legend(fontsize=8)

    counts = np.array([4, 8, 16, 32, 64, 128])
    errors = [np.max(np.abs(sum_of_steps(x, step_approximation(n, f, lo, hi)) - target)) for n in counts]
    axes[2].loglog(counts, errors, "o-", label="max |f - approximation|")
    axes[2].loglog(counts, errors[0] * (counts[0] / counts) ** 2, "--", color="gray", label="slope -2")
    axes[2].set(title="error against the number of steps", xlabel="number of steps (2 ReLUs each)")
    axes[2].legend(fontsize=8)
    return fig


def main(out_dir="out"):
    """Run the experiment and write circles.png and steps.png to ``out_dir``, each as soon as
    it is drawn, step by step (``lab.Lab``: progress, a bound on a hang); return the paths."""
    from lab import Lab  # only the script needs it

    lab = Lab(out_dir, steps=3)
    result = lab.run("circles_experiment(): two deep networks, identity and ReLU", circles_experiment)
    lab.figure("circles.png", circles_figure, result=result)
    lab.figure("steps.png", steps_figure)
    lab.say("What you should see: the identity network's boundary is a straight line (accuracy "
            "near 0.5), the ReLU network's a closed curve (about 0.99); the error of the sum of "
            "ReLU steps falls like 1 / n^2 (slope -2).")
    return lab.written


if __name__ == "__main__":
    from lab import script

    script(main)
