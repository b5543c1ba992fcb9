"""Submissions that do no maths for activations.py and derivatives.py: every function of the
two modules (or every derivative) replaced by a fake of the right shape and dtype: zeros,
ones, the input, a constant, another function's formula, a numerical derivative instead of
a derived one, the limits copied from the docstrings. Each must earn nothing on the functions
it fakes (issue: "points mean the maths is right").
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from autograder import config
from tests.corpus import swap

ACTIVATIONS = {  # name -> signature
    "sigmoid": "x", "tanh": "x", "relu": "x", "relu6": "x", "leaky_relu": "x, alpha=0.01",
    "prelu": "x, alpha", "elu": "x, alpha=1.0", "gelu": "x", "swish": "x, beta=1.0",
}
GRADS = {f"{name}_grad": sig for name, sig in ACTIVATIONS.items() if name != "prelu"}
OTHERS = {  # the rest of derivatives.py, each with a fake of the right type
    "prelu_grad": ("x, alpha", "    x = _float(x) + 0 * np.asarray(alpha)\n"
                               "    return np.zeros_like(x), np.zeros_like(x)\n"),
    "prelu_backward": ("grad_out, x, alpha",
                       "    return np.zeros(np.shape(x)), np.zeros(np.shape(alpha))\n"),
    "numerical_derivative": ("f, x, h=1e-5", "    return np.zeros(np.shape(x))\n"),
    "gradient_check": ("f, f_grad, x, h=1e-5", "    return 0.0\n"),
}
FLOAT = ("def _float(x):\n    x = np.asarray(x)\n"
         "    return x if x.dtype.kind == 'f' else x.astype(np.float64)\n")


@dataclass(frozen=True)
class DoNothing:
    id: str
    body: str            # the fake's body, from x = _float(x)
    fakes: tuple         # the functions replaced
    why: str = ""
    computes: tuple = () # replaced functions that the fake happens to compute right


def _source(names: dict, body: str) -> str:
    return FLOAT + "".join(f"\n\ndef {n}({sig}):\n    x = _float(x)\n    {body}\n"
                           for n, sig in names.items())


def _elementwise(id, expression, why, computes=()):
    return DoNothing(id, f"return {expression}", (*ACTIVATIONS, *GRADS, *OTHERS), why, computes)


VARIANTS = [
    _elementwise("zeros", "np.zeros(x.shape, x.dtype)", "np.zeros of the right shape and dtype"),
    _elementwise("ones", "np.ones(x.shape, x.dtype)", "np.ones"),
    _elementwise("identity", "x.copy()", "the input returned"),
    _elementwise("half", "np.full(x.shape, 0.5, x.dtype)", "a constant 0.5"),
    _elementwise("tanh-everywhere", "np.tanh(x)", "another function's formula: np.tanh",
                 computes=("tanh",)),
    _elementwise("relu-everywhere", "np.maximum(x, 0)", "another function's formula: relu",
                 computes=("relu",)),
    _elementwise("sigmoid-everywhere", "1 / (1 + np.exp(-np.clip(x, -500, 500)))",
                 "another function's formula: sigmoid", computes=("sigmoid",)),
    _elementwise("docstring-limits", "np.where(np.isnan(x), np.nan, np.where(x > 0, 1.0, 0.0)"
                 ").astype(x.dtype)", "the limits at +-inf copied from the docstrings",
                 computes=("relu_grad",)),
]
# Derivatives by finite differences of the reference activations (which stay): through
# numerical_derivative, and as the student's own quotient with other steps. A step between
# 5e-5 and 8e-4 meets the contract for sigmoid' and tanh' (tests/test_contract.py), so 1e-4
# is faked for the other six only.
for _id, _expression, _fakes in [
        ("numerical-derivative", "numerical_derivative(lambda t: ACT(t, *ARGS), x)", GRADS),
        ("difference-quotient-1e-7", "(ACT(x + 1e-7, *ARGS) - ACT(x - 1e-7, *ARGS)) / 2e-7", GRADS),
        ("difference-quotient-1e-3", "(ACT(x + 1e-3, *ARGS) - ACT(x - 1e-3, *ARGS)) / 2e-3", GRADS),
        ("difference-quotient-1e-4", "(ACT(x + 1e-4, *ARGS) - ACT(x - 1e-4, *ARGS)) / 2e-4",
         [g for g in GRADS if g not in ("sigmoid_grad", "tanh_grad")])]:
    VARIANTS.append(DoNothing(_id, _expression, tuple(_fakes),
                              "a derivative differenced, not derived"))


def build(variant: DoNothing, folder: Path) -> Path:
    """Write the submission for ``variant`` into ``folder`` (created) and return it."""
    shutil.copytree(config.SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    acts = {n: s for n, s in ACTIVATIONS.items() if n in variant.fakes}
    grads = {n: s for n, s in GRADS.items() if n in variant.fakes}
    if "ACT(" in variant.body:  # a difference of the activation, through its own name
        source = FLOAT + "".join(
            f"\n\ndef {g}({sig}):\n    from activations import {g[:-5]} as ACT\n"
            f"    ARGS = ({', '.join(p.split('=')[0].strip() for p in sig.split(',')[1:])}"
            f"{',' if ',' in sig else ''})\n    x = _float(x)\n    return {variant.body}\n"
            for g, sig in grads.items())
    else:
        source = _source(grads, variant.body) + "".join(
            f"\n\ndef {n}({sig}):\n{body}" for n, (sig, body) in OTHERS.items()
            if n in variant.fakes)
    for module, replacement in (("activations", _source(acts, variant.body) if acts else ""),
                                ("derivatives", source)):
        if replacement:
            target = folder / f"{module}.py"
            target.write_text(swap(target.read_text(encoding="utf-8"), replacement),
                              encoding="utf-8")
    return folder
