"""What the hidden checks use to judge plain data and to explain a verdict.

A check fails by raising ``Fail(message)``; the message is all a student sees (the check's
code never is), so it says what was called on which input, expected against got, and a hint
in the lecture's terms. ``Fail(message, fraction=f)`` keeps a fraction of the check's points.
"""
from __future__ import annotations

import numpy as np


class Fail(AssertionError):
    def __init__(self, message: str, fraction: float = 0.0):
        super().__init__(message)
        self.message = message
        self.fraction = min(max(float(fraction), 0.0), 1.0)


def short(value, width: int = 160) -> str:
    """A one-line, length-capped view of an argument or a result."""
    if isinstance(value, np.ndarray):
        body = np.array2string(value, threshold=8, edgeitems=3, max_line_width=10**6,
                               precision=8, separator=", ")
        text = f"array({' '.join(body.split())}, dtype={value.dtype}, shape={value.shape})"
    elif hasattr(value, "path") and type(value).__name__ == "FunctionRef":
        text = value.path
    else:
        text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def call_text(function: str, *args, **kwargs) -> str:
    parts = [short(a, 80) for a in args] + [f"{k}={short(v, 40)}" for k, v in kwargs.items()]
    return f"{function}({', '.join(parts)})"


_ERROR_HINTS = {
    "timeout": "Look for a Python loop over the elements or a loop that never ends; "
               "numpy operates on whole arrays at once.",
    "memory": "Your code asked for far more memory than the task needs.",
    "crash": "The process running your code died; look for os._exit, sys.exit or native code.",
    "bad-output": "Return a numpy array (np.asarray(...)), not another type.",
}


def returned(result, what: str):
    """The value a sandboxed call returned, or ``Fail`` saying why there is none."""
    if result.ok:
        return result.value
    hint = _ERROR_HINTS.get(result.error_kind or "", "")
    if result.error_kind == "exception" and "NotImplementedError" in (result.error or ""):
        hint = "This function is not written yet: replace the `raise NotImplementedError`."
    raise Fail(f"{what} {result.error}." + (f"\nHint: {hint}" if hint else ""))


def as_array(value, what: str) -> np.ndarray:
    """The returned value as an ndarray; a 0-d numpy scalar counts (SPEC: output contract)."""
    if not isinstance(value, np.ndarray):
        raise Fail(f"{what} returned {short(value)}, expected a numpy array.\n"
                   "Hint: build the result with numpy operations so it is an np.ndarray.")
    return value


def mismatches(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Boolean mask of the elements outside tolerance (NaN matches NaN only)."""
    expected = np.asarray(expected, dtype=np.float64)
    got64 = got.astype(np.float64, copy=False)
    both_nan = np.isnan(got64) & np.isnan(expected)
    same_inf = np.isinf(expected) & (got64 == expected)
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.abs(got64 - expected) <= atol + rtol * np.abs(expected)
    return ~(close | both_nan | same_inf)


def expect_close(got, expected, what: str, *, rtol: float, atol: float,
                 inputs=None, hint: str = "") -> None:
    """``Fail`` unless ``got`` matches ``expected`` elementwise, showing the worst places."""
    got = as_array(got, what)
    expected = np.asarray(expected)
    if got.shape != expected.shape:
        raise Fail(f"{what} returned shape {got.shape}, expected {expected.shape}.\n"
                   "Hint: an elementwise function returns an array shaped like its input.")
    if got.dtype.kind not in "biuf":
        raise Fail(f"{what} returned dtype {got.dtype}, expected a floating array.")
    bad = mismatches(got, expected, rtol, atol)
    if not bad.any():
        return
    idx = np.argwhere(bad)[:3] if bad.ndim else [()]
    rows = []
    for i in idx:
        i = tuple(i)
        at = f"x={np.asarray(inputs)[i]!r}, " if inputs is not None and np.shape(inputs) == got.shape else ""
        rows.append(f"  at {at}index {i}: expected {expected[i]!r}, got {got[i]!r}")
    raise Fail(f"{what}: {int(bad.sum())} of {bad.size} values are wrong "
               f"(tolerance rtol={rtol:g}, atol={atol:g}):\n" + "\n".join(rows)
               + (f"\nHint: {hint}" if hint else ""))
