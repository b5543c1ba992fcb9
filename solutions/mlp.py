"""A tiny numpy multilayer perceptron for binary classification (given: nothing to write here).

Row-vector convention, as in every exercise: layer l maps h (n, d_l) to h @ W_l + b_l, with W_l of
shape (d_l, d_{l+1}) and b_l of shape (d_{l+1},). Parameters are plain lists of arrays,
``weights`` and ``biases``, so anyone can evaluate a trained network with their own code.

Every hidden layer applies the same pluggable activation ``g``; the last layer is linear and
produces one logit z per row, turned into a probability by the sigmoid and trained with binary
cross-entropy by full-batch gradient descent. ``g`` and its derivative ``g_grad`` are passed as
functions (``g_grad`` is evaluated at the pre-activation, like the ``*_grad`` functions of
derivatives.py), so the same network can be trained with identity, ReLU or leaky ReLU units.
"""
import numpy as np

# Plain forms of the activations the experiments train with. They skip the array contract
# (dtypes, NaN, infinities) that activations.py and derivatives.py ask for; derivatives at a
# kink follow PyTorch (relu'(0) = 0), so a ReLU unit whose pre-activation is <= 0 passes none.
ACTIVATIONS = {
    "identity": (lambda a: a, lambda a: np.ones_like(a)),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a: (a > 0).astype(a.dtype)),
    "leaky_relu": (lambda a: np.where(a > 0, a, 0.01 * a), lambda a: np.where(a > 0, 1.0, 0.01)),
}


def init_params(sizes, seed=0, bias_init=0.0):
    """He-initialised parameters for a network with layer widths ``sizes``.

    ``sizes = [d_0, d_1, ..., d_L]`` gives L layers; W_l has entries drawn from
    N(0, 2 / d_l) (He et al., 2015: keeps the scale of ReLU activations roughly constant
    from layer to layer), b_l is filled with ``bias_init`` (the lecture's advice for ReLU
    is a small positive value such as 0.01). The last width is 1 for this module's
    binary classifier.

    Returns ``(weights, biases)``: lists of L float64 arrays of shapes (d_l, d_{l+1}) and
    (d_{l+1},). The same ``seed`` gives the same parameters.
    """
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((d_in, d_out)) * np.sqrt(2.0 / d_in)
               for d_in, d_out in zip(sizes[:-1], sizes[1:])]
    biases = [np.full(d_out, float(bias_init)) for d_out in sizes[1:]]
    return weights, biases


def sigmoid(z):
    """1 / (1 + e^-z), written through tanh so that no |z| overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def forward(x, weights, biases, activation):
    """Logits of the network on the rows of ``x`` (n, d_0), and what backward needs.

    Returns ``(z, inputs, pre)``: z (n,) the output logits; ``inputs[l]`` the input of
    layer l (``inputs[0]`` is x); ``pre[l]`` the pre-activation of hidden layer l.
    """
    h, inputs, pre = x, [], []
    for W, b in zip(weights[:-1], biases[:-1]):
        inputs.append(h)
        pre.append(h @ W + b)
        h = activation(pre[-1])
    inputs.append(h)
    return (h @ weights[-1] + biases[-1])[:, 0], inputs, pre


def predict_proba(x, weights, biases, activation):
    """P(y = 1 | x) for every row of ``x``: the sigmoid of the logits, shape (n,)."""
    return sigmoid(forward(x, weights, biases, activation)[0])


def loss_and_grads(x, y, weights, biases, activation, activation_grad):
    """Mean binary cross-entropy on (x, y) and its gradients by backpropagation.

    The loss is mean(log(1 + e^z) - y z), the cross-entropy of sigmoid(z), computed with
    ``logaddexp`` so large logits neither overflow nor give log(0); its gradient with
    respect to the logits is (sigmoid(z) - y) / n.

    Returns ``(loss, grads_w, grads_b)``: a float and two lists shaped like ``weights`` and
    ``biases``. A hidden unit whose ``activation_grad`` is 0 on every row gets exactly zero
    gradient for its incoming weights and its bias.
    """
    z, inputs, pre = forward(x, weights, biases, activation)
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    delta = ((sigmoid(z) - y) / len(z))[:, None]  # dL/dz for the last layer's outputs
    grads_w, grads_b = [None] * len(weights), [None] * len(weights)
    for l in reversed(range(len(weights))):
        grads_w[l] = inputs[l].T @ delta
        grads_b[l] = delta.sum(axis=0)
        if l > 0:
            delta = (delta @ weights[l].T) * activation_grad(pre[l - 1])
    return loss, grads_w, grads_b


def train(x, y, weights, biases, activation, activation_grad, lr=0.1, steps=300):
    """Full-batch gradient descent: ``steps`` updates p <- p - lr * dL/dp from the given start.

    The given ``weights`` and ``biases`` are not modified: every step makes new arrays, so a
    caller can keep the starting parameters to compare with.

    Returns ``(weights, biases, losses)``: the trained parameters (lists of arrays shaped
    like the inputs) and a float64 array (steps,) of the loss before each update.
    """
    losses = np.empty(steps)
    for step in range(steps):
        losses[step], grads_w, grads_b = loss_and_grads(x, y, weights, biases, activation, activation_grad)
        weights = [W - lr * g for W, g in zip(weights, grads_w)]
        biases = [b - lr * g for b, g in zip(biases, grads_b)]
    return weights, biases, losses
