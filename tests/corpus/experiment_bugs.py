"""Realistic submissions for linear_collapse.py, dying_relu.py and saturation.py: the
reference with one function swapped for a buggy version (``BUGS``) or for a different but
correct one (``CORRECT``).

Most bugs are the slips students make (an off-by-one, ``<`` for ``<=``, a missing
factor); many are the experiment cheats the grader has to catch by measuring instead of
trusting (SPEC.md "Experiments are verified, not self-reported"): numbers reported that the
returned data does not give, a lucky seed hard-coded, "training" that never trains, a dead
unit whose parameters move, step counts or timings made up.

``breaks`` are the functions the bug must cost points on; ``also`` those that may lose
points too because, in the reference, they use the broken one (``USES``):
``sum_of_steps`` calls ``relu_ramp``; ``dead_fraction`` calls ``dead_units``; the three
saturation experiments use ``lecture_activation``, whose values
are checked through ``first_layer_grad_norms``; ``saturation_experiment`` calls
``saturated_fraction``; ``sign_mixing_experiment`` calls ``weight_gradients`` and
``sign_mixed_fraction``; ``descent_path`` calls ``same_sign_direction``.
"""
from __future__ import annotations

from tests.corpus import Variant

L, DR, S = "linear_collapse", "dying_relu", "saturation"
# Who may lose points when a function is broken (see the module docstring).
USES = {
    "relu_ramp": ("sum_of_steps",),
    "dead_units": ("dead_fraction",),
    "lecture_activation": ("saturation_experiment", "first_layer_grad_norms",
                           "sign_mixing_experiment"),
    "first_layer_grad_norms": ("lecture_activation",),
    "saturated_fraction": ("saturation_experiment",),
    "weight_gradients": ("sign_mixing_experiment",),
    "sign_mixed_fraction": ("sign_mixing_experiment",),
    "same_sign_direction": ("descent_path",),
}


def bug(id, module, function, why, source):
    return Variant(id=id, module=module, source=source, breaks=(function,),
                   also=USES.get(function, ()), why=why)


BUGS = [
    # --- linear_collapse.py -----------------------------------------------------------
    bug("linear-forward-relu-between", L, "linear_forward", "a ReLU after every layer, from habit", '''
def linear_forward(x, weights, biases):
    h = np.asarray(x)
    for W, b in zip(weights, biases):
        h = np.maximum(h @ W + b, 0)
    return h
'''),
    bug("collapse-bias-through-next-layer-only", L, "collapse",
        "each bias carried through the next layer only, not all later ones", '''
def collapse(weights, biases):
    W = np.array(weights[0])
    for W_next in weights[1:]:
        W = W @ W_next
    b = np.array(biases[-1])
    for b_l, W_after in zip(biases[:-1], weights[1:]):
        b = b + b_l @ W_after
    return W, b
'''),
    bug("collapse-accumulates-into-last-bias", L, "collapse",
        "back to front with b += ...: writes into the caller's last bias", '''
def collapse(weights, biases):
    W, b = np.array(weights[-1]), biases[-1]
    for W_l, b_l in zip(weights[-2::-1], biases[-2::-1]):
        b += b_l @ W
        W = W_l @ W
    return W, b
'''),
    bug("collapse-one-layer-returns-its-input", L, "collapse",
        "a stack of one layer returned as it is: the caller's own arrays, not new ones", '''
def collapse(weights, biases):
    if len(weights) == 1:
        return weights[0], biases[0]
    W, b = np.array(weights[0]), np.array(biases[0])
    for W_l, b_l in zip(weights[1:], biases[1:]):
        W, b = W @ W_l, b @ W_l + b_l
    return W, b
'''),
    bug("linear-forward-column-vectors", L, "linear_forward",
        "column vectors: W.T @ h + b, giving (d_L, n) instead of (n, d_L)", '''
def linear_forward(x, weights, biases):
    h = np.asarray(x).T
    for W, b in zip(weights, biases):
        h = W.T @ h + np.asarray(b)[:, None]
    return h
'''),
    bug("relu-ramp-literal-difference", L, "relu_ramp",
        "the lecture's two ReLUs literally: right everywhere but +inf, where inf - inf is NaN", '''
def relu_ramp(x, a, b):
    if not a < b:
        raise ValueError(f"relu_ramp needs a < b, got a={a!r}, b={b!r}")
    x = np.asarray(x, dtype=np.float64)
    return (np.maximum(x - a, 0.0) - np.maximum(x - b, 0.0)) / (b - a)
'''),
    bug("relu-ramp-not-normalised", L, "relu_ramp", "relu(x - a) - relu(x - b): rises to b - a, not 1", '''
def relu_ramp(x, a, b):
    if not a < b:
        raise ValueError(f"relu_ramp needs a < b, got a={a!r}, b={b!r}")
    x = np.asarray(x)
    return np.minimum(np.maximum(x - a, 0), b - a)
'''),
    bug("step-approx-no-offset", L, "step_approximation",
        "offset 0: right for sin on [0, 2 pi] only", '''
def step_approximation(n_steps, f=np.sin, lo=0.0, hi=2 * np.pi):
    if n_steps < 1:
        raise ValueError(f"n_steps must be at least 1, got {n_steps!r}")
    if not lo < hi:
        raise ValueError(f"step_approximation needs lo < hi, got lo={lo!r}, hi={hi!r}")
    knots = np.linspace(lo, hi, n_steps + 1)
    values = np.asarray(f(knots), dtype=np.float64)
    return {"a": knots[:-1], "b": knots[1:], "heights": np.diff(values), "offset": 0.0}
'''),
    bug("sum-of-steps-flattens", L, "sum_of_steps", "vectorised over x.ravel(): loses x's shape", '''
def sum_of_steps(x, steps):
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    a, b = np.asarray(steps["a"]), np.asarray(steps["b"])
    ramps = np.clip((x[:, None] - a) / (b - a), 0.0, 1.0)
    return float(steps["offset"]) + ramps @ np.asarray(steps["heights"])
'''),
    bug("circles-lucky-seed", L, "circles_experiment", "init_params(seed=0) whatever the seed", '''
def circles_experiment(seed=0, lr=0.1, steps=500):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(CIRCLES_SIZES, seed=0)
    result = {"x": x, "y": y, "seed": seed}
    for name in ("identity", "relu"):
        trained_w, trained_b, losses = train(x, y, weights, biases, *ACTIVATIONS[name], lr=lr, steps=steps)
        result[name] = {"weights": trained_w, "biases": trained_b, "losses": losses}
    return result
'''),
    bug("circles-identity-not-trained", L, "circles_experiment",
        "identity net 'can't learn anyway': start returned, flat loss curve", '''
def circles_experiment(seed=0, lr=0.1, steps=500):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(CIRCLES_SIZES, seed=seed)
    result = {"x": x, "y": y, "seed": seed}
    first = train(x, y, weights, biases, *ACTIVATIONS["identity"], lr=lr, steps=1)[2]
    result["identity"] = {"weights": weights, "biases": biases, "losses": np.full(steps, first[0])}
    trained_w, trained_b, losses = train(x, y, weights, biases, *ACTIVATIONS["relu"], lr=lr, steps=steps)
    result["relu"] = {"weights": trained_w, "biases": trained_b, "losses": losses}
    return result
'''),
    bug("circles-ignores-lr", L, "circles_experiment", "lr never passed on: mlp.train's default", '''
def circles_experiment(seed=0, lr=0.1, steps=500):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(CIRCLES_SIZES, seed=seed)
    result = {"x": x, "y": y, "seed": seed}
    for name in ("identity", "relu"):
        trained_w, trained_b, losses = train(x, y, weights, biases, *ACTIVATIONS[name], steps=steps)
        result[name] = {"weights": trained_w, "biases": trained_b, "losses": losses}
    return result
'''),
    # --- dying_relu.py ----------------------------------------------------------------
    bug("dead-units-strict", DR, "dead_units", "< 0: a pre-activation of exactly 0 kept alive", '''
def dead_units(x, W, b):
    return np.all(np.asarray(x) @ W + b < 0, axis=0)
'''),
    bug("dead-units-not-any-positive", DR, "dead_units", "~any(a > 0): a NaN unit counted dead", '''
def dead_units(x, W, b):
    return ~np.any(np.asarray(x) @ W + b > 0, axis=0)
'''),
    bug("dead-fraction-feeds-preactivation", DR, "dead_fraction",
        "next layer fed the pre-activation, not the ReLU output", '''
def dead_fraction(x, weights, biases):
    if len(weights) < 2:
        raise ValueError("dead_fraction needs a network with at least one hidden layer")
    h, dead = np.asarray(x), []
    for W, b in zip(weights[:-1], biases[:-1]):
        dead.append(dead_units(h, W, b))
        h = h @ W + b
    return float(np.mean(np.concatenate(dead)))
'''),
    bug("dead-fraction-mean-of-layers", DR, "dead_fraction", "the mean of per-layer fractions", '''
def dead_fraction(x, weights, biases):
    if len(weights) < 2:
        raise ValueError("dead_fraction needs a network with at least one hidden layer")
    h, fractions = np.asarray(x), []
    for W, b in zip(weights[:-1], biases[:-1]):
        fractions.append(np.mean(dead_units(h, W, b)))
        h = np.maximum(h @ W + b, 0.0)
    return float(np.mean(fractions))
'''),
    bug("dead-fraction-on-training-circles", DR, "dead_fraction",
        "measured on the training circles, not the x it is given", '''
def dead_fraction(x, weights, biases):
    if len(weights) < 2:
        raise ValueError("dead_fraction needs a network with at least one hidden layer")
    h, dead = make_circles(N_POINTS)[0], []
    for W, b in zip(weights[:-1], biases[:-1]):
        dead.append(dead_units(h, W, b))
        h = np.maximum(h @ W + b, 0.0)
    return float(np.mean(np.concatenate(dead)))
'''),
    bug("dead-unit-grads-before-push", DR, "dead_unit_experiment",
        "per-input gradients taken before the bias is pushed", '''
def dead_unit_experiment(seed=0, unit=0, bias=-100.0, lr=0.5, steps=1000):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed)
    relu, relu_grad = ACTIVATIONS["relu"]
    per_input = [loss_and_grads(x[i:i + 1], y[i:i + 1], weights, biases, relu, relu_grad) for i in range(len(x))]
    biases[0][unit] = bias
    trained_w, trained_b, losses = train(x, y, weights, biases, relu, relu_grad, lr=lr, steps=steps)
    return {
        "x": x, "y": y, "seed": seed, "unit": unit,
        "weights_before": weights, "biases_before": biases,
        "weights_after": trained_w, "biases_after": trained_b, "losses": losses,
        "grad_w": np.stack([grads_w[0][:, unit] for _, grads_w, _ in per_input]),
        "grad_b": np.array([grads_b[0][unit] for _, _, grads_b in per_input]),
    }
'''),
    bug("dead-unit-weight-decay", DR, "dead_unit_experiment",
        "own training loop with weight decay: the dead unit's weights shrink", '''
def dead_unit_experiment(seed=0, unit=0, bias=-100.0, lr=0.5, steps=1000):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed)
    biases[0][unit] = bias
    relu, relu_grad = ACTIVATIONS["relu"]
    per_input = [loss_and_grads(x[i:i + 1], y[i:i + 1], weights, biases, relu, relu_grad) for i in range(len(x))]
    w, b, losses = weights, biases, np.empty(steps)
    for t in range(steps):
        losses[t], gw, gb = loss_and_grads(x, y, w, b, relu, relu_grad)
        w = [W - lr * (g + 1e-3 * W) for W, g in zip(w, gw)]
        b = [c - lr * g for c, g in zip(b, gb)]
    return {
        "x": x, "y": y, "seed": seed, "unit": unit,
        "weights_before": weights, "biases_before": biases,
        "weights_after": w, "biases_after": b, "losses": losses,
        "grad_w": np.stack([grads_w[0][:, unit] for _, grads_w, _ in per_input]),
        "grad_b": np.array([grads_b[0][unit] for _, _, grads_b in per_input]),
    }
'''),
    bug("dead-unit-leaky-then-restored", DR, "dead_unit_experiment",
        "trained with leaky ReLU, the unit's old parameters pasted back to look dead", '''
def dead_unit_experiment(seed=0, unit=0, bias=-100.0, lr=0.5, steps=1000):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed)
    biases[0][unit] = bias
    relu, relu_grad = ACTIVATIONS["relu"]
    per_input = [loss_and_grads(x[i:i + 1], y[i:i + 1], weights, biases, relu, relu_grad) for i in range(len(x))]
    trained_w, trained_b, losses = train(x, y, weights, biases, *ACTIVATIONS["leaky_relu"], lr=lr, steps=steps)
    trained_w[0][:, unit] = weights[0][:, unit]
    trained_b[0][unit] = biases[0][unit]
    return {
        "x": x, "y": y, "seed": seed, "unit": unit,
        "weights_before": weights, "biases_before": biases,
        "weights_after": trained_w, "biases_after": trained_b, "losses": losses,
        "grad_w": np.stack([grads_w[0][:, unit] for _, grads_w, _ in per_input]),
        "grad_b": np.array([grads_b[0][unit] for _, _, grads_b in per_input]),
    }
'''),
    bug("lr-sweep-ignores-bias-init", DR, "lr_sweep", "bias_init never passed to init_params", '''
def lr_sweep(lrs=LRS, seed=0, bias_init=0.0, steps=300):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed)
    runs = [train(x, y, weights, biases, *ACTIVATIONS["relu"], lr=lr, steps=steps) for lr in lrs]
    return {
        "x": x, "y": y, "seed": seed, "lrs": np.array(lrs, dtype=np.float64), "bias_init": float(bias_init),
        "weights": [w for w, _, _ in runs], "biases": [b for _, b, _ in runs],
        "losses": np.array([losses for _, _, losses in runs]),
    }
'''),
    bug("lr-sweep-fakes-dead-at-high-lr", DR, "lr_sweep",
        "no training at lr >= 10: every bias set to -100 to show dead units", '''
def lr_sweep(lrs=LRS, seed=0, bias_init=0.0, steps=300):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed, bias_init=bias_init)
    runs = []
    for lr in lrs:
        if lr >= 10:
            runs.append(([W.copy() for W in weights], [np.full_like(c, -100.0) for c in biases],
                         np.full(steps, np.log(2))))
        else:
            runs.append(train(x, y, weights, biases, *ACTIVATIONS["relu"], lr=lr, steps=steps))
    return {
        "x": x, "y": y, "seed": seed, "lrs": np.array(lrs, dtype=np.float64), "bias_init": float(bias_init),
        "weights": [w for w, _, _ in runs], "biases": [b for _, b, _ in runs],
        "losses": np.array([losses for _, _, losses in runs]),
    }
'''),
    bug("relu-vs-leaky-lr-capped", DR, "relu_vs_leaky", "lr capped at 1 'for stability'", '''
def relu_vs_leaky(seed=0, lr=5.0, steps=300):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed)
    result = {"x": x, "y": y, "seed": seed, "lr": float(lr)}
    for name in ("relu", "leaky_relu"):
        trained_w, trained_b, losses = train(x, y, weights, biases, *ACTIVATIONS[name], lr=min(lr, 1.0), steps=steps)
        result[name] = {"weights": trained_w, "biases": trained_b, "losses": losses}
    return result
'''),
    # --- saturation.py ----------------------------------------------------------------
    bug("lecture-activation-sigmoid-grad-at-output", S, "lecture_activation",
        "sigma'(a) = a (1 - a): the output formula at the pre-activation", '''
def lecture_activation(name):
    if name == "sigmoid":
        def f(a):
            return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(a, dtype=np.float64)))

        def f_grad(a):
            a = np.asarray(a, dtype=np.float64)
            return a * (1.0 - a)
    elif name == "tanh":
        def f(a):
            return np.tanh(np.asarray(a, dtype=np.float64))

        def f_grad(a):
            return 1.0 - f(a) ** 2
    elif name == "relu":
        def f(a):
            return np.maximum(np.asarray(a, dtype=np.float64), 0.0)

        def f_grad(a):
            return (np.asarray(a) > 0).astype(np.float64)
    else:
        raise ValueError(f"unknown activation {name!r}")
    return f, f_grad
'''),
    bug("lecture-activation-sigmoid-overflows", S, "lecture_activation",
        "1 / (1 + exp(-a)) overflows for a < -709", '''
def lecture_activation(name):
    if name == "sigmoid":
        def f(a):
            return 1.0 / (1.0 + np.exp(-np.asarray(a, dtype=np.float64)))

        def f_grad(a):
            s = f(a)
            return s * (1.0 - s)
    elif name == "tanh":
        def f(a):
            return np.tanh(np.asarray(a, dtype=np.float64))

        def f_grad(a):
            return 1.0 - f(a) ** 2
    elif name == "relu":
        def f(a):
            return np.maximum(np.asarray(a, dtype=np.float64), 0.0)

        def f_grad(a):
            return (np.asarray(a) > 0).astype(np.float64)
    else:
        raise ValueError(f"unknown activation {name!r}")
    return f, f_grad
'''),
    bug("saturated-fraction-nan-saturated", S, "saturated_fraction",
        "not (inside the band): NaN counted as saturated", '''
def saturated_fraction(h, low, high, eps=1e-2):
    h = np.asarray(h, dtype=np.float64)
    if h.size == 0:
        raise ValueError("saturated_fraction of an empty array")
    if not low < high:
        raise ValueError(f"need low < high, got low={low}, high={high}")
    if eps < 0:
        raise ValueError(f"need eps >= 0, got {eps}")
    inside = (h > low + eps) & (h < high - eps)
    return float(np.mean(~inside))
'''),
    bug("saturated-fraction-fixed-eps", S, "saturated_fraction", "eps hard-coded to 0.01", '''
def saturated_fraction(h, low, high, eps=1e-2):
    h = np.asarray(h, dtype=np.float64)
    if h.size == 0:
        raise ValueError("saturated_fraction of an empty array")
    if not low < high:
        raise ValueError(f"need low < high, got low={low}, high={high}")
    if eps < 0:
        raise ValueError(f"need eps >= 0, got {eps}")
    return float(np.mean((h <= low + 0.01) | (h >= high - 0.01)))
'''),
    bug("saturation-hardcoded-seed", S, "saturation_experiment", "default_rng(0) whatever the seed", '''
def saturation_experiment(n_in=1000, n_units=100, n_samples=200, eps=1e-2, seed=0):
    rng = np.random.default_rng(0)
    x = standardised_inputs(n_samples, n_in, rng)
    weights = {
        "N(0,1)": rng.standard_normal((n_in, n_units)),
        "N(0,1/n)": rng.standard_normal((n_in, n_units)) / np.sqrt(n_in),
    }
    pre = {scale: x @ W for scale, W in weights.items()}
    sigmoid, _ = lecture_activation("sigmoid")
    tanh, _ = lecture_activation("tanh")
    fractions = {
        "sigmoid": {s: saturated_fraction(sigmoid(a), 0.0, 1.0, eps) for s, a in pre.items()},
        "tanh": {s: saturated_fraction(tanh(a), -1.0, 1.0, eps) for s, a in pre.items()},
    }
    return {"x": x, "weights": weights, "pre_activations": pre, "fractions": fractions,
            "eps": float(eps), "n_in": int(n_in), "seed": int(seed)}
'''),
    bug("saturation-reports-expected-numbers", S, "saturation_experiment",
        "the docstring's fractions reported instead of measured", '''
def saturation_experiment(n_in=1000, n_units=100, n_samples=200, eps=1e-2, seed=0):
    rng = np.random.default_rng(seed)
    x = standardised_inputs(n_samples, n_in, rng)
    weights = {
        "N(0,1)": rng.standard_normal((n_in, n_units)),
        "N(0,1/n)": rng.standard_normal((n_in, n_units)) / np.sqrt(n_in),
    }
    pre = {scale: x @ W for scale, W in weights.items()}
    fractions = {"sigmoid": {"N(0,1)": 0.88, "N(0,1/n)": 0.0},
                 "tanh": {"N(0,1)": 0.93, "N(0,1/n)": 0.01}}
    return {"x": x, "weights": weights, "pre_activations": pre, "fractions": fractions,
            "eps": float(eps), "n_in": int(n_in), "seed": int(seed)}
'''),
    bug("saturation-eps-not-passed", S, "saturation_experiment",
        "saturated_fraction called with its default eps, not the experiment's", '''
def saturation_experiment(n_in=1000, n_units=100, n_samples=200, eps=1e-2, seed=0):
    rng = np.random.default_rng(seed)
    x = standardised_inputs(n_samples, n_in, rng)
    weights = {
        "N(0,1)": rng.standard_normal((n_in, n_units)),
        "N(0,1/n)": rng.standard_normal((n_in, n_units)) / np.sqrt(n_in),
    }
    pre = {scale: x @ W for scale, W in weights.items()}
    sigmoid, _ = lecture_activation("sigmoid")
    tanh, _ = lecture_activation("tanh")
    fractions = {
        "sigmoid": {s: saturated_fraction(sigmoid(a), 0.0, 1.0) for s, a in pre.items()},
        "tanh": {s: saturated_fraction(tanh(a), -1.0, 1.0) for s, a in pre.items()},
    }
    return {"x": x, "weights": weights, "pre_activations": pre, "fractions": fractions,
            "eps": float(eps), "n_in": int(n_in), "seed": int(seed)}
'''),
    bug("saturation-fractions-from-another-draw", S, "saturation_experiment",
        "fractions measured on a second draw of inputs, not on the returned data", '''
def saturation_experiment(n_in=1000, n_units=100, n_samples=200, eps=1e-2, seed=0):
    rng = np.random.default_rng(seed)
    x = standardised_inputs(n_samples, n_in, rng)
    weights = {
        "N(0,1)": rng.standard_normal((n_in, n_units)),
        "N(0,1/n)": rng.standard_normal((n_in, n_units)) / np.sqrt(n_in),
    }
    pre = {scale: x @ W for scale, W in weights.items()}
    x_eval = standardised_inputs(n_samples, n_in, rng)
    sigmoid, _ = lecture_activation("sigmoid")
    tanh, _ = lecture_activation("tanh")
    fractions = {
        "sigmoid": {s: saturated_fraction(sigmoid(x_eval @ W), 0.0, 1.0, eps) for s, W in weights.items()},
        "tanh": {s: saturated_fraction(tanh(x_eval @ W), -1.0, 1.0, eps) for s, W in weights.items()},
    }
    return {"x": x, "weights": weights, "pre_activations": pre, "fractions": fractions,
            "eps": float(eps), "n_in": int(n_in), "seed": int(seed)}
'''),
    bug("grad-norms-last-layer", S, "first_layer_grad_norms",
        "the norm of dL/dW_D, the last layer's gradient, not the first's", '''
def first_layer_grad_norms(depths, activation="sigmoid", activation_grad=None, width=64,
                           n_samples=32, weight_scale=1.0, seed=0):
    depths = np.asarray(depths)
    if depths.ndim != 1 or depths.size == 0 or not np.issubdtype(depths.dtype, np.integer) \\
            or depths.min() < 1:
        raise ValueError(f"depths must be a non-empty sequence of integers >= 1, got {depths!r}")
    if isinstance(activation, str):
        f, f_grad = lecture_activation(activation)
    elif callable(activation) and callable(activation_grad):
        f, f_grad = activation, activation_grad
    else:
        raise ValueError("activation must be a name, or a callable with a callable activation_grad")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, width))
    weights = rng.standard_normal((int(depths.max()), width, width)) * weight_scale / np.sqrt(width)
    norms = []
    for depth in depths:
        h, inputs, pre = x, [], []
        for W in weights[:depth]:
            inputs.append(h)
            pre.append(h @ W)
            h = f(pre[-1])
        grad_a = np.ones_like(h) * f_grad(pre[-1])
        norms.append(np.linalg.norm(inputs[-1].T @ grad_a))
    return {"depths": depths.astype(np.int64), "norms": np.asarray(norms, dtype=np.float64),
            "x": x, "weights": weights, "weight_scale": float(weight_scale), "seed": int(seed)}
'''),
    bug("grad-norms-forgot-upstream", S, "first_layer_grad_norms",
        "dL/da_l = f'(a_l), the upstream dL/dh_l never multiplied in", '''
def first_layer_grad_norms(depths, activation="sigmoid", activation_grad=None, width=64,
                           n_samples=32, weight_scale=1.0, seed=0):
    depths = np.asarray(depths)
    if depths.ndim != 1 or depths.size == 0 or not np.issubdtype(depths.dtype, np.integer) \\
            or depths.min() < 1:
        raise ValueError(f"depths must be a non-empty sequence of integers >= 1, got {depths!r}")
    if isinstance(activation, str):
        f, f_grad = lecture_activation(activation)
    elif callable(activation) and callable(activation_grad):
        f, f_grad = activation, activation_grad
    else:
        raise ValueError("activation must be a name, or a callable with a callable activation_grad")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, width))
    weights = rng.standard_normal((int(depths.max()), width, width)) * weight_scale / np.sqrt(width)
    norms = []
    for depth in depths:
        h, pre = x, []
        for W in weights[:depth]:
            pre.append(h @ W)
            h = f(pre[-1])
        grad_h = np.ones_like(h)
        for layer in reversed(range(depth)):
            grad_a = f_grad(pre[layer])
            grad_h = grad_a @ weights[layer].T
        norms.append(np.linalg.norm(x.T @ grad_a))
    return {"depths": depths.astype(np.int64), "norms": np.asarray(norms, dtype=np.float64),
            "x": x, "weights": weights, "weight_scale": float(weight_scale), "seed": int(seed)}
'''),
    bug("grad-norms-lucky-seed", S, "first_layer_grad_norms", "default_rng(0) whatever the seed", '''
def first_layer_grad_norms(depths, activation="sigmoid", activation_grad=None, width=64,
                           n_samples=32, weight_scale=1.0, seed=0):
    depths = np.asarray(depths)
    if depths.ndim != 1 or depths.size == 0 or not np.issubdtype(depths.dtype, np.integer) \\
            or depths.min() < 1:
        raise ValueError(f"depths must be a non-empty sequence of integers >= 1, got {depths!r}")
    if isinstance(activation, str):
        f, f_grad = lecture_activation(activation)
    elif callable(activation) and callable(activation_grad):
        f, f_grad = activation, activation_grad
    else:
        raise ValueError("activation must be a name, or a callable with a callable activation_grad")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n_samples, width))
    weights = rng.standard_normal((int(depths.max()), width, width)) * weight_scale / np.sqrt(width)
    norms = []
    for depth in depths:
        h, pre = x, []
        for W in weights[:depth]:
            pre.append(h @ W)
            h = f(pre[-1])
        grad_h = np.ones_like(h)
        for layer in reversed(range(depth)):
            grad_a = grad_h * f_grad(pre[layer])
            grad_h = grad_a @ weights[layer].T
        norms.append(np.linalg.norm(x.T @ grad_a))
    return {"depths": depths.astype(np.int64), "norms": np.asarray(norms, dtype=np.float64),
            "x": x, "weights": weights, "weight_scale": float(weight_scale), "seed": int(seed)}
'''),
    bug("weight-gradients-no-newaxis", S, "weight_gradients",
        "delta * h: broadcasts along the wrong axis", '''
def weight_gradients(delta, h):
    delta = np.asarray(delta, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    if h.ndim - delta.ndim != 1 or h.shape[:-1] != delta.shape:
        raise ValueError(f"delta of shape {delta.shape} does not match h of shape {h.shape}")
    return delta * h
'''),
    bug("sign-mixed-zero-is-positive", S, "sign_mixed_fraction", ">= 0: zeros counted as positive", '''
def sign_mixed_fraction(grads):
    g = np.asarray(grads, dtype=np.float64)
    if g.ndim == 1:
        g = g[None, :]
    if g.ndim != 2 or g.shape[0] == 0:
        raise ValueError(f"expected shape (n, d) with n >= 1, got {np.shape(grads)}")
    mixed = (g >= 0).any(axis=1) & (g < 0).any(axis=1)
    return float(mixed.mean())
'''),
    bug("sign-mixing-reports-theory", S, "sign_mixing_experiment",
        "fractions from theory (0 and 1 - 2^(1-d)), not measured", '''
def sign_mixing_experiment(n_vectors=1000, n_inputs=10, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n_vectors, n_inputs))
    delta = rng.standard_normal(n_vectors)
    h = {name: lecture_activation(name)[0](a) for name in ("sigmoid", "tanh")}
    grads = {name: weight_gradients(delta, hn) for name, hn in h.items()}
    fractions = {"sigmoid": 0.0, "tanh": 1 - 2.0 ** (1 - n_inputs)}
    return {"pre_activations": a, "delta": delta, "h": h, "grads": grads, "fractions": fractions}
'''),
    bug("sign-mixing-hardcoded-seed", S, "sign_mixing_experiment", "default_rng(0) whatever the seed", '''
def sign_mixing_experiment(n_vectors=1000, n_inputs=10, seed=0):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n_vectors, n_inputs))
    delta = rng.standard_normal(n_vectors)
    h = {name: lecture_activation(name)[0](a) for name in ("sigmoid", "tanh")}
    grads = {name: weight_gradients(delta, hn) for name, hn in h.items()}
    fractions = {name: sign_mixed_fraction(g) for name, g in grads.items()}
    return {"pre_activations": a, "delta": delta, "h": h, "grads": grads, "fractions": fractions}
'''),
    bug("same-sign-tie-negative", S, "same_sign_direction", "> instead of >=: a tie goes negative", '''
def same_sign_direction(grad):
    v = -np.asarray(grad, dtype=np.float64)
    pos, neg = np.maximum(v, 0.0), np.minimum(v, 0.0)
    return pos if pos @ pos > neg @ neg else neg
'''),
    bug("descent-path-one-step-too-many", S, "descent_path",
        "tests tol after stepping: always one step past the first point within tol", '''
def descent_path(w0, w_star, lr=0.1, tol=1e-3, max_steps=10_000, same_sign=False):
    w = np.array(w0, dtype=np.float64)
    w_star = np.asarray(w_star, dtype=np.float64)
    path = [w.copy()]
    while len(path) <= max_steps:
        grad = w - w_star
        step = same_sign_direction(grad) if same_sign else -grad
        w = w + lr * step
        path.append(w.copy())
        if np.linalg.norm(path[-2] - w_star) <= tol:
            break
    return np.array(path)
'''),
    bug("descent-path-split-steps", S, "descent_path",
        "same-sign: the free step taken in two halves (up part, then down part)", '''
def descent_path(w0, w_star, lr=0.1, tol=1e-3, max_steps=10_000, same_sign=False):
    w = np.array(w0, dtype=np.float64)
    w_star = np.asarray(w_star, dtype=np.float64)
    path = [w.copy()]
    while np.linalg.norm(w - w_star) > tol and len(path) <= max_steps:
        step = -(w - w_star)
        if same_sign:
            up = np.maximum(step, 0.0)
            w = w + lr * (up if len(path) % 2 else step - up)
        else:
            w = w + lr * step
        path.append(w.copy())
    return np.array(path)
'''),
    bug("descent-path-restricted-half-lr", S, "descent_path",
        "same-sign run at lr / 2: made-up extra steps for the zig-zag", '''
def descent_path(w0, w_star, lr=0.1, tol=1e-3, max_steps=10_000, same_sign=False):
    w = np.array(w0, dtype=np.float64)
    w_star = np.asarray(w_star, dtype=np.float64)
    path = [w.copy()]
    while np.linalg.norm(w - w_star) > tol and len(path) <= max_steps:
        grad = w - w_star
        w = w + (lr / 2 * same_sign_direction(grad) if same_sign else -lr * grad)
        path.append(w.copy())
    return np.array(path)
'''),
    bug("time-activations-invented", S, "time_activations",
        "times invented from the lecture's costs, nothing measured", '''
def time_activations(functions, sizes=(10**5, 10**6), repeat=3, baseline="relu", seed=0):
    if baseline not in functions:
        raise ValueError(f"the baseline {baseline!r} is not among the functions")
    names = list(functions)
    sizes = np.asarray(sizes, dtype=np.int64)
    cost = {name: (1e-9 if name == baseline else 4e-9) for name in names}
    seconds = {name: np.array([[n * cost[name] * (1 + 0.01 * r) for r in range(repeat)] for n in sizes])
               for name in names}
    per_element = {name: seconds[name].min(axis=1) / sizes for name in names}
    relative = {name: per_element[name] / per_element[baseline] for name in names}
    return {"names": names, "sizes": sizes, "seconds": seconds, "per_element": per_element,
            "relative": relative, "baseline": baseline}
'''),
    bug("time-activations-relative-to-first", S, "time_activations",
        "relative to the first function timed, not to the baseline", '''
def time_activations(functions, sizes=(10**5, 10**6), repeat=3, baseline="relu", seed=0):
    if baseline not in functions:
        raise ValueError(f"the baseline {baseline!r} is not among the functions")
    names = list(functions)
    sizes = np.asarray(sizes, dtype=np.int64)
    rng = np.random.default_rng(seed)
    seconds = {name: np.zeros((len(sizes), repeat)) for name in names}
    for i, n in enumerate(sizes):
        x = rng.standard_normal(int(n))
        for name in names:
            functions[name](x)
        for r in range(repeat):
            for name in names:
                t0 = time.perf_counter()
                functions[name](x)
                seconds[name][i, r] = time.perf_counter() - t0
    per_element = {name: seconds[name].min(axis=1) / sizes for name in names}
    relative = {name: per_element[name] / per_element[names[0]] for name in names}
    return {"names": names, "sizes": sizes, "seconds": seconds, "per_element": per_element,
            "relative": relative, "baseline": baseline}
'''),
]

# Different from the reference, but meeting the whole contract: full marks.
CORRECT = [
    Variant("linear-forward-reduce", L, '''
def linear_forward(x, weights, biases):
    from functools import reduce
    return reduce(lambda h, layer: h @ layer[0] + layer[1], zip(weights, biases), np.asarray(x))
''', why="functools.reduce over the layers"),
    Variant("collapse-back-to-front", L, '''
def collapse(weights, biases):
    W, b = np.array(weights[-1]), np.array(biases[-1])
    for W_l, b_l in zip(weights[-2::-1], biases[-2::-1]):
        b = b_l @ W + b
        W = W_l @ W
    return W, b
''', why="collapsed from the output layer back, into new arrays"),
    Variant("sum-of-steps-broadcast", L, '''
def sum_of_steps(x, steps):
    x = np.asarray(x, dtype=np.float64)
    a, b = np.asarray(steps["a"], dtype=np.float64), np.asarray(steps["b"], dtype=np.float64)
    ramps = np.clip((x[..., None] - a) / (b - a), 0.0, 1.0)
    return float(steps["offset"]) + ramps @ np.asarray(steps["heights"], dtype=np.float64)
''', why="all ramps at once by broadcasting, shape kept"),
    Variant("step-approx-arange-knots", L, """
def step_approximation(n_steps, f=np.sin, lo=0.0, hi=2 * np.pi):
    if not (isinstance(n_steps, (int, np.integer)) and n_steps >= 1) or not lo < hi:
        raise ValueError(f"need n_steps >= 1 and lo < hi, got {n_steps!r}, {lo!r}, {hi!r}")
    knots = lo + (hi - lo) * np.arange(n_steps + 1) / n_steps
    values = np.asarray(f(knots), dtype=np.float64)
    return {"a": knots[:-1].copy(), "b": knots[1:].copy(), "heights": values[1:] - values[:-1],
            "offset": float(values[0])}
""", why="knots from np.arange, rises by slicing"),
    Variant("circles-own-descent-loop", L, '''
def circles_experiment(seed=0, lr=0.1, steps=500):
    x, y = make_circles(N_POINTS, seed=seed)
    from mlp import loss_and_grads
    start = init_params(CIRCLES_SIZES, seed=seed)
    result = {"x": x, "y": y, "seed": seed}
    for name in ("identity", "relu"):
        weights, biases = start
        losses = np.empty(steps)
        for t in range(steps):
            losses[t], gw, gb = loss_and_grads(x, y, weights, biases, *ACTIVATIONS[name])
            weights = [W - lr * g for W, g in zip(weights, gw)]
            biases = [c - lr * g for c, g in zip(biases, gb)]
        result[name] = {"weights": weights, "biases": biases, "losses": losses}
    return result
''', why="its own gradient-descent loop with mlp.loss_and_grads: mlp.train's updates"),
    Variant("dead-units-count-rows", DR, '''
def dead_units(x, W, b):
    x = np.asarray(x)
    return np.count_nonzero(x @ W + b <= 0, axis=0) == x.shape[0]
''', why="counts the rows where the unit is off; 0 rows: all dead; NaN: alive"),
    Variant("dead-fraction-counts", DR, '''
def dead_fraction(x, weights, biases):
    if len(weights) < 2:
        raise ValueError("dead_fraction needs a network with at least one hidden layer")
    h = np.asarray(x)
    n_dead = n_units = 0
    for W, b in zip(weights[:-1], biases[:-1]):
        n_dead += int(dead_units(h, W, b).sum())
        n_units += W.shape[1]
        h = np.maximum(h @ W + b, 0.0)
    return n_dead / n_units
''', why="dead units and units counted layer by layer"),
    Variant("lr-sweep-explicit-loop", DR, '''
def lr_sweep(lrs=LRS, seed=0, bias_init=0.0, steps=300):
    x, y = make_circles(N_POINTS, seed=seed)
    start = init_params(SIZES, seed=seed, bias_init=bias_init)
    lrs = np.array(lrs, dtype=np.float64)
    result = {"x": x, "y": y, "seed": seed, "lrs": lrs, "bias_init": float(bias_init),
              "weights": [], "biases": [], "losses": np.empty((len(lrs), steps))}
    relu, relu_grad = ACTIVATIONS["relu"]
    for j, lr in enumerate(lrs):
        w, b, result["losses"][j] = train(x, y, *start, relu, relu_grad, lr=float(lr), steps=steps)
        result["weights"].append(w)
        result["biases"].append(b)
    return result
''', why="an indexed loop filling a preallocated loss table"),
    Variant("dead-unit-experiment-preallocated", DR, """
def dead_unit_experiment(seed=0, unit=0, bias=-100.0, lr=0.5, steps=1000):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed)
    biases = [c.copy() for c in biases]
    biases[0][unit] = bias
    g, g_grad = ACTIVATIONS["relu"]
    grad_w, grad_b = np.zeros((len(x), x.shape[1])), np.zeros(len(x))
    for i in range(len(x)):
        _, gw, gb = loss_and_grads(x[i:i + 1], y[i:i + 1], weights, biases, g, g_grad)
        grad_w[i], grad_b[i] = gw[0][:, unit], gb[0][unit]
    after_w, after_b, losses = train(x, y, weights, biases, g, g_grad, lr=lr, steps=steps)
    return {"x": x, "y": y, "seed": seed, "unit": unit, "weights_before": weights,
            "biases_before": biases, "weights_after": after_w, "biases_after": after_b,
            "losses": losses, "grad_w": grad_w, "grad_b": grad_b}
""", why="per-input gradients written into preallocated arrays"),
    Variant("relu-vs-leaky-unrolled", DR, """
def relu_vs_leaky(seed=0, lr=5.0, steps=300):
    x, y = make_circles(N_POINTS, seed=seed)
    weights, biases = init_params(SIZES, seed=seed)
    w1, b1, l1 = train(x, y, weights, biases, *ACTIVATIONS["relu"], lr=lr, steps=steps)
    w2, b2, l2 = train(x, y, weights, biases, *ACTIVATIONS["leaky_relu"], lr=lr, steps=steps)
    return {"x": x, "y": y, "seed": seed, "lr": float(lr),
            "relu": {"weights": w1, "biases": b1, "losses": l1},
            "leaky_relu": {"weights": w2, "biases": b2, "losses": l2}}
""", why="the two runs written out"),
    Variant("lecture-activation-table", S, """
def lecture_activation(name):
    def sigmoid(a):
        a = np.asarray(a, dtype=np.float64)
        return np.exp(-np.logaddexp(0.0, -a))

    table = {
        "sigmoid": (sigmoid, lambda a: sigmoid(a) * sigmoid(-np.asarray(a, dtype=np.float64))),
        "tanh": (lambda a: np.tanh(np.asarray(a, dtype=np.float64)),
                 lambda a: 1.0 - np.tanh(np.asarray(a, dtype=np.float64)) ** 2),
        "relu": (lambda a: np.maximum(np.asarray(a, dtype=np.float64), 0.0),
                 lambda a: np.where(np.asarray(a) > 0, 1.0, 0.0)),
    }
    if name not in table:
        raise ValueError(f"unknown activation {name!r}")
    return table[name]
""", why="a dict of lambdas; sigmoid via logaddexp, sigma' = sigma(a) sigma(-a)"),
    Variant("saturation-experiment-loops", S, """
def saturation_experiment(n_in=1000, n_units=100, n_samples=200, eps=1e-2, seed=0):
    rng = np.random.default_rng(seed)
    x = standardised_inputs(n_samples, n_in, rng)
    weights, pre = {}, {}
    for scale, divisor in zip(WEIGHT_SCALES, (1.0, np.sqrt(n_in))):
        weights[scale] = rng.standard_normal((n_in, n_units)) / divisor
        pre[scale] = x @ weights[scale]
    fractions = {}
    for name, low, high in (("sigmoid", 0.0, 1.0), ("tanh", -1.0, 1.0)):
        f = lecture_activation(name)[0]
        fractions[name] = {scale: saturated_fraction(f(pre[scale]), low, high, eps) for scale in WEIGHT_SCALES}
    return {"x": x, "weights": weights, "pre_activations": pre, "fractions": fractions,
            "eps": float(eps), "n_in": int(n_in), "seed": int(seed)}
""", why="loops over the scales and the activations"),
    Variant("sign-mixing-one-name-at-a-time", S, """
def sign_mixing_experiment(n_vectors=1000, n_inputs=10, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n_vectors, n_inputs))
    delta = rng.standard_normal(n_vectors)
    out = {"pre_activations": a, "delta": delta, "h": {}, "grads": {}, "fractions": {}}
    for name in ("sigmoid", "tanh"):
        h = lecture_activation(name)[0](a)
        out["h"][name] = h
        out["grads"][name] = delta[:, None] * h
        out["fractions"][name] = sign_mixed_fraction(out["grads"][name])
    return out
""", why="one loop filling the result; delta[:, None] * h inline"),
    Variant("saturated-fraction-mean-mask", S, '''
def saturated_fraction(h, low, high, eps=1e-2):
    if not low < high or eps < 0:
        raise ValueError(f"need low < high and eps >= 0, got {low}, {high}, {eps}")
    h = np.array(h, dtype=np.float64, ndmin=1)
    if h.size == 0:
        raise ValueError("saturated_fraction of an empty array")
    return float(np.mean(np.logical_or(h <= low + eps, h >= high - eps)))
''', why="the mean of the boolean mask; arguments checked first"),
    Variant("grad-norms-one-forward", S, '''
def first_layer_grad_norms(depths, activation="sigmoid", activation_grad=None, width=64,
                           n_samples=32, weight_scale=1.0, seed=0):
    depths = np.asarray(depths)
    if depths.ndim != 1 or depths.size == 0 or not np.issubdtype(depths.dtype, np.integer) \\
            or depths.min() < 1:
        raise ValueError(f"depths must be a non-empty sequence of integers >= 1, got {depths!r}")
    if isinstance(activation, str):
        f, f_grad = lecture_activation(activation)
    elif callable(activation) and callable(activation_grad):
        f, f_grad = activation, activation_grad
    else:
        raise ValueError("activation must be a name, or a callable with a callable activation_grad")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, width))
    weights = rng.standard_normal((int(depths.max()), width, width)) * weight_scale / np.sqrt(width)
    pre, h = [], x
    for W in weights:                      # one forward pass through the deepest stack
        pre.append(h @ W)
        h = f(pre[-1])
    norms = np.empty(len(depths))
    for k, depth in enumerate(depths):     # the first D layers are shared by every depth
        grad = np.ones_like(pre[depth - 1])
        for layer in range(depth - 1, -1, -1):
            grad = grad * f_grad(pre[layer])
            if layer:
                grad = grad @ weights[layer].T
        norms[k] = np.sqrt(np.sum((x.T @ grad) ** 2))
    return {"depths": depths.astype(np.int64), "norms": norms, "x": x, "weights": weights,
            "weight_scale": float(weight_scale), "seed": int(seed)}
''', why="one forward pass shared by every depth, Frobenius norm by hand"),
    Variant("weight-gradients-einsum", S, '''
def weight_gradients(delta, h):
    delta = np.asarray(delta, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    if h.shape[:-1] != delta.shape or h.ndim != delta.ndim + 1:
        raise ValueError(f"delta of shape {delta.shape} does not match h of shape {h.shape}")
    return np.einsum("...,...i->...i", delta, h)
''', why="np.einsum"),
    Variant("sign-mixed-via-np-sign", S, '''
def sign_mixed_fraction(grads):
    s = np.sign(np.atleast_2d(np.asarray(grads, dtype=np.float64)))
    if np.ndim(grads) not in (1, 2) or s.shape[0] == 0:
        raise ValueError(f"expected shape (n, d) with n >= 1, got {np.shape(grads)}")
    return float(np.mean((s.max(axis=1) > 0) & (s.min(axis=1) < 0)))
''', why="largest sign 1 and smallest sign -1"),
    Variant("same-sign-by-norms", S, '''
def same_sign_direction(grad):
    v = -np.asarray(grad, dtype=np.float64)
    up, down = np.clip(v, 0.0, None), np.clip(v, None, 0.0)
    return up if np.linalg.norm(up) >= np.linalg.norm(down) else down
''', why="np.clip and np.linalg.norm"),
    Variant("descent-path-for-loop", S, '''
def descent_path(w0, w_star, lr=0.1, tol=1e-3, max_steps=10_000, same_sign=False):
    w_star = np.asarray(w_star, dtype=np.float64)
    path = [np.array(w0, dtype=np.float64)]
    for _ in range(max_steps):
        w = path[-1]
        if np.linalg.norm(w - w_star) <= tol:
            break
        grad = w - w_star
        path.append(w + lr * same_sign_direction(grad) if same_sign else w - lr * grad)
    return np.array(path)
''', why="a for loop over max_steps with an early break"),
    Variant("time-activations-repeats-outside", S, '''
def time_activations(functions, sizes=(10**5, 10**6), repeat=3, baseline="relu", seed=0):
    if baseline not in functions:
        raise ValueError(f"the baseline {baseline!r} is not among the functions")
    names = list(functions)
    sizes = np.asarray(sizes, dtype=np.int64)
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(int(n)) for n in sizes]
    for x in xs:
        for name in names:
            functions[name](x)
    seconds = {name: np.zeros((len(sizes), repeat)) for name in names}
    for r in range(repeat):
        for i, x in enumerate(xs):
            for name in names:
                start = time.perf_counter()
                functions[name](x)
                seconds[name][i, r] = time.perf_counter() - start
    per_element = {name: seconds[name].min(axis=1) / sizes for name in names}
    relative = {name: per_element[name] / per_element[baseline] for name in names}
    return {"names": names, "sizes": sizes, "seconds": seconds, "per_element": per_element,
            "relative": relative, "baseline": baseline}
''', why="all inputs drawn first, the repeats as the outer loop, still interleaved"),
]
