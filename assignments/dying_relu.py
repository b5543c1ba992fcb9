# Student version of dying_relu.py, generated from the reference solution.
# Replace every `raise NotImplementedError` with your code; keep the names and signatures.
"""Exercise: dead ReLUs, and what (does not) bring them back.

The lecture's story: relu'(a) = 0 for a < 0. If a large update pushes a unit's bias so far
down that its pre-activation a = x . w + b is negative for every input, the unit outputs 0
and passes no gradient on the whole data set: dL/dw = dL/db = 0, so w and b never change
again and the unit stays dead for the rest of training. (Exactly so in the first hidden
layer, whose inputs are the data; a deeper unit can come back if the layers feeding it
move it into the positive region.) A high learning rate makes such
updates likely; the lecture's remedies are a small positive bias initialisation (0.01) and
leaky ReLU, whose slope alpha > 0 on the negative side always lets some gradient through.

All experiments train a 2-32-32-1 network (``SIZES``) with ``mlp.train`` on 256 noisy
concentric circles (``datasets.make_circles``), full-batch gradient descent, He
initialisation; a unit is dead on x when its pre-activation is <= 0 on every row of x.

Run ``python dying_relu.py OUT_DIR`` to run the experiments and write the figure as a PNG file
(a few seconds; ``lab.py`` shows each step).
"""
import numpy as np

from datasets import make_circles
from mlp import ACTIVATIONS, forward, init_params, loss_and_grads, train

SIZES = (2, 32, 32, 1)
N_POINTS = 256
# From "safe" to "kills most units" for this network (300 steps): 0 to 12% of the units are
# dead at 0.01 to 1 (some from the initialisation already), 75% to 100% at 10.
LRS = (0.01, 0.1, 1.0, 3.0, 10.0)


def dead_units(x, W, b):
    """Which units of the layer x @ W + b are dead on the inputs x.

    Unit j is dead when its pre-activation a_ij = (x @ W + b)_ij is <= 0 for every row i:
    its ReLU then outputs 0 on the whole data set, and since relu'(a) = 0 for a <= 0
    (PyTorch's choice at 0), no gradient reaches W[:, j] or b[j] from any input.

    Parameters
    ----------
    x : array (n, d_in), the layer's inputs, one per row.
    W : array (d_in, d_out), b : array (d_out,).

    Returns
    -------
    bool array (d_out,). With n = 0 rows every unit counts as dead (nothing activates it).
    A NaN pre-activation is not <= 0, so it keeps a unit alive.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("dead_units")


def dead_fraction(x, weights, biases):
    """Fraction of the hidden ReLU units of a network that are dead on the inputs x.

    The hidden layers are all layers but the last (the output layer has no ReLU). Layer 1
    sees x; each later hidden layer sees the ReLU output of the layer before, so a unit
    can be dead because of its own weights or because the units feeding it are.

    Parameters
    ----------
    x : array (n, d_0).
    weights, biases : lists of L >= 2 arrays, W_l (d_{l-1}, d_l), b_l (d_l,).

    Returns
    -------
    float in [0, 1]: dead hidden units / all hidden units (d_1 + ... + d_{L-1}); every
    unit counts once, so a wide layer weighs more than a narrow one. ValueError when the
    network has no hidden layer.
    """
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("dead_fraction")


def zero_gradient_units(x, y, weights, biases, activation="relu"):
    """Which hidden units get exactly zero gradient for all their parameters on (x, y).

    For every hidden unit (layer by layer, in order) True when the full-batch gradient of
    the loss with respect to its incoming weights and its bias is exactly 0.0. With ReLU,
    every dead unit is such a unit; with leaky ReLU, whose derivative is never 0, none is
    (barring exact cancellation).

    Parameters
    ----------
    x, y : the data, (n, d_0) and (n,). weights, biases : lists of arrays (``mlp``).
    activation : a key of ``mlp.ACTIVATIONS``, e.g. "relu" or "leaky_relu".

    Returns
    -------
    bool array (d_1 + ... + d_{L-1},).
    """
    _, grads_w, grads_b = loss_and_grads(x, y, weights, biases, *ACTIVATIONS[activation])
    return np.concatenate([np.all(gw == 0, axis=0) & (gb == 0)
                           for gw, gb in zip(grads_w[:-1], grads_b[:-1])])


def dead_unit_experiment(seed=0, unit=0, bias=-100.0, lr=0.5, steps=1000):
    """A unit with a large negative bias gets no gradient and stays dead however long we train.

    Start from ``init_params(SIZES, seed=seed)``, set the bias of ``unit`` in the first
    hidden layer to ``bias`` (the lecture's "a large gradient made b very negative"), and
    train the ReLU network on ``make_circles(256, seed=seed)`` with ``mlp.train`` for
    ``steps`` steps at learning rate ``lr``.

    What to observe: before training, the gradient of the loss on every single input
    with respect to that unit's weights W_0[:, unit] and bias b_0[unit] is exactly 0
    (relu' = 0 at its negative pre-activation); after training, those parameters are bit
    for bit what they were, while the rest of the network has learned.

    Returns
    -------
    dict with
      "x" : float64 (256, 2), "y" : int64 (256,), the training data; "seed", "unit" : int;
      "weights_before", "biases_before" : the parameters training started from (the
        pushed bias included), lists of 3 arrays;
      "weights_after", "biases_after" : the trained parameters, same shapes;
      "losses" : float64 (steps,), the training loss before each step;
      "grad_w" : float64 (256, 2), row i the gradient of the loss on input i alone with
        respect to W_0[:, unit], at the start (``mlp.loss_and_grads`` on the one-row batch
        x[i:i + 1], y[i:i + 1]); "grad_b" : float64 (256,), the same for b_0[unit].
    """
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed)
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("dead_unit_experiment")


def lr_sweep(lrs=LRS, seed=0, bias_init=0.0, steps=300):
    """Train the same ReLU network once per learning rate: the higher it is, the more units die.

    For every lr in ``lrs``: start from ``init_params(SIZES, seed=seed, bias_init=bias_init)``
    (the same start for every lr) and train with ``mlp.train`` on
    ``make_circles(256, seed=seed)`` for ``steps`` steps. Measure the dead fraction of the
    results yourself (``dead_fraction``): 0 to 12% at lr <= 1 (mostly units dead from the
    initialisation), more than half at lr = 10, where the first few huge updates push most
    pre-activations below zero for good. ``bias_init=0.01`` is the lecture's advice;
    compare: a bias of 0.01 is no match for updates this large.

    Returns
    -------
    dict with
      "x" : float64 (256, 2), "y" : int64 (256,), the training data; "seed" : int;
      "lrs" : float64 (k,), the learning rates, in the given order;
      "bias_init" : float;
      "weights", "biases" : lists of k trained parameter sets, entry j trained with lrs[j]
        (each a list of 3 arrays, shapes as in ``init_params(SIZES)``);
      "losses" : float64 (k, steps), the training loss curves.
    """
    x, y = make_circles(N_POINTS, seed=seed)
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("lr_sweep")


def relu_vs_leaky(seed=0, lr=5.0, steps=300):
    """The same network at the same high learning rate, with ReLU and with leaky ReLU.

    Start both runs from ``init_params(SIZES, seed=seed)`` and train on
    ``make_circles(256, seed=seed)`` at ``lr`` for ``steps`` steps, once with
    ``ACTIVATIONS["relu"]`` and once with ``ACTIVATIONS["leaky_relu"]`` (alpha = 0.01).

    What to observe: most hidden units of the ReLU network are dead (pre-activation
    <= 0 on every input) and so get exactly zero gradient. In the leaky network about as
    many units are negative on every input, but each one still gets a non-zero gradient
    (scaled by alpha = 0.01), so no unit is frozen. Neither network reliably trains at
    this rate, and at lr = 10 the leaky network's full-batch descent diverges instead: the
    learning rate is the real culprit. (lr = 5 is the highest round rate at which the
    leaky network stays finite for every seed tried.)

    Returns
    -------
    dict with "x" : float64 (256, 2), "y" : int64 (256,), "seed" : int, "lr" : float, and
    "relu", "leaky_relu" : each a dict with "weights", "biases" (trained parameters,
    lists of 3 arrays) and "losses" (float64 (steps,)).
    """
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed)
    # TODO: your code here (read the docstring above)
    raise NotImplementedError("relu_vs_leaky")


def dying_figure(seed=0, sweeps=None, leaky=None):
    """Dead fraction against learning rate, and ReLU against leaky ReLU at a high one.

    Two axes. Left: ``dead_fraction`` on the training data of every network of each
    ``lr_sweep`` result in ``sweeps`` (by default ``lr_sweep(seed=seed)`` with bias
    initialisation 0 and with 0.01), one line per sweep, log learning-rate axis.
    Right: for ``leaky``, a ``relu_vs_leaky`` result (by default ``relu_vs_leaky(seed)``),
    per hidden layer the fraction of units negative on every input, and the fraction of all
    hidden units getting exactly zero gradient, for ReLU and for leaky ReLU. Notes under the
    axes say what the bars alone don't: a layer that is entirely dead passes no gradient
    back, so the live units before it are frozen too. (The grader passes the results it has.)
    """
    if sweeps is None:
        sweeps = [lr_sweep(seed=seed, bias_init=bias_init) for bias_init in (0.0, 0.01)]
    from matplotlib.figure import Figure  # only drawing needs matplotlib
    fig = Figure(figsize=(12, 4.8))
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.25, top=0.92, wspace=0.18)
    left, right = fig.subplots(1, 2)
    for sweep in sweeps:
        order = np.argsort(sweep["lrs"])
        fractions = [dead_fraction(sweep["x"], sweep["weights"][j], sweep["biases"][j]) for j in order]
        left.semilogx(np.asarray(sweep["lrs"])[order], fractions, "o-",
                      label=f"ReLU, bias init {sweep['bias_init']:g}")
    left.axhline(0.5, color="gray", linestyle="--", lw=1)
    left.set(title=f"dead hidden units after {np.shape(sweeps[0]['losses'])[1]} steps (2-32-32-1)",
             xlabel="learning rate", ylabel="fraction of hidden units dead", ylim=(-0.02, 1.02))
    left.legend()

    result = relu_vs_leaky(seed) if leaky is None else leaky
    x, y = result["x"], result["y"]
    names, labels = ("relu", "leaky_relu"), ["ReLU", "leaky ReLU (alpha 0.01)"]
    negative, silent = [], []   # per network: per hidden layer; overall
    for name in names:
        weights, biases = result[name]["weights"], result[name]["biases"]
        # Each layer fed the output of its own activation (dead_fraction assumes ReLU).
        pre = forward(x, weights, biases, ACTIVATIONS[name][0])[2]
        negative.append([np.mean(np.all(a <= 0, axis=0)) for a in pre])
        silent.append(np.mean(zero_gradient_units(x, y, weights, biases, name)))
    layers = len(negative[0])
    width = 0.8 / (layers + 1)
    positions = np.arange(len(names))
    for k in range(layers):
        values = [n[k] for n in negative]
        bars = right.bar(positions + (k - layers / 2) * width, values, width=width,
                         color=_layer_colour(k, layers), label=f"layer {k + 1}: pre-activation <= 0 on every input")
        right.bar_label(bars, fmt="%.2f", fontsize=8)
    bars = right.bar(positions + layers / 2 * width, silent, width=width, color="tab:orange",
                     label="exactly zero gradient, all hidden units (learn nothing)")
    right.bar_label(bars, fmt="%.2f", fontsize=8)
    right.set_xticks(positions, labels)
    right.set(title=f"same network and start, learning rate {result['lr']:g}",
              ylabel="fraction of hidden units", ylim=(0, 1.3))
    right.legend(loc="upper right", fontsize=7)
    # What the bars alone don't say, from the data: why ReLU's frozen share can exceed its
    # dead share, and why leaky units negative everywhere are not dead.
    notes = ["Left: a high learning rate kills most units for good; a bias initialised to 0.01 "
             "is no match for updates this large."]
    dead = dead_fraction(x, result["relu"]["weights"], result["relu"]["biases"])
    dead_layers = [k + 1 for k, fraction in enumerate(negative[0]) if fraction == 1.0]
    if dead_layers and dead_layers[-1] > 1:
        last = dead_layers[-1]
        notes.append(f"ReLU: layer {last} is entirely dead, so no gradient flows back through it: "
                     f"the live units before it get none either ({silent[0]:.2f} frozen, {dead:.2f} dead).")
    elif silent[0] > dead:
        notes.append(f"ReLU: {silent[0]:.2f} frozen against {dead:.2f} dead: a live unit learns "
                     "nothing either when the units after it are inactive wherever it is active.")
    notes.append(f"Leaky ReLU: units negative on every input, yet {silent[1]:.2f} frozen: the slope "
                 "alpha on the negative side still lets gradient through.")
    fig.text(0.06, 0.015, "\n".join(notes), fontsize=9, va="bottom")
    return fig


def _layer_colour(k, n):
    """The k-th of n shades of blue, dark to light (one per hidden layer)."""
    return (0.12 + 0.5 * k / max(n, 1), 0.35 + 0.4 * k / max(n, 1), 0.65 + 0.25 * k / max(n, 1))


def main(out_dir="out"):
    """Run the experiments step by step (``lab.Lab``: progress, a bound on a hang), say what
    the dead unit did, and write dying_relu.png to ``out_dir``; return the paths."""
    from lab import Lab  # only the script needs it

    lab = Lab(out_dir, steps=5)
    dead = lab.run("dead_unit_experiment(): a unit pushed to bias -100", dead_unit_experiment)
    moved = max(np.abs(after - before).max() for after, before in
                zip(dead["weights_after"], dead["weights_before"]))
    unit = dead["unit"]
    frozen = np.abs(dead["weights_after"][0][:, unit] - dead["weights_before"][0][:, unit]).max()
    lab.say(f"      its gradient on each of the {len(dead['x'])} inputs: at most "
            f"{np.abs(dead['grad_w']).max():g} (weights), {np.abs(dead['grad_b']).max():g} (bias); after "
            f"{len(dead['losses'])} steps its weights moved by {frozen:g}, the layers' weights by up "
            f"to {moved:.3g}")
    sweeps = [lab.run(f"lr_sweep(bias_init={bias_init:g}): {len(LRS)} learning rates", lr_sweep,
                      bias_init=bias_init) for bias_init in (0.0, 0.01)]
    leaky = lab.run("relu_vs_leaky(): the same start, ReLU and leaky ReLU at lr 5", relu_vs_leaky)
    lab.figure("dying_relu.png", dying_figure, sweeps=sweeps, leaky=leaky)
    lab.say("What you should see: more than half of the units dead at the highest learning rate, "
            "with either bias initialisation; a dead layer freezes the live units before it too; "
            "no leaky unit frozen.")
    return lab.written


if __name__ == "__main__":
    from lab import script

    script(main)
