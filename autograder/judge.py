"""What the hidden checks use to judge plain data and to explain a verdict.

A check fails by raising ``Fail(message)``; the message is all a student sees (the check's
code never is), so it says what was called on which input, expected against got, and a hint
in the lecture's terms. ``Fail(message, fraction=f)`` keeps a fraction of the check's points.
"""
from __future__ import annotations

import collections
import hashlib
import weakref
import zlib
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np


class Fail(AssertionError):
    def __init__(self, message: str, fraction: float = 0.0):
        super().__init__(message)
        self.message = message
        self.fraction = min(max(float(fraction), 0.0), 1.0)


def short(value, width: int = 160) -> str:
    """A one-line, length-capped view of an argument or a result."""
    if isinstance(value, np.ndarray):
        # Formatted here, each element to 8 digits as numpy prints them: numpy's printer
        # costs about 0.5 ms an array, and every call of a check is described. A large
        # array shows its first and last three elements.
        digits = min(8, np.finfo(value.dtype).precision + 1) if value.dtype.kind == "f" else 8

        def fmt(v):
            if isinstance(v, list):
                return f"[{', '.join(map(fmt, v))}]"
            return repr(float(f"{v:.{digits}g}")) if isinstance(v, float) else repr(v)

        if value.size > 8:
            edges = [fmt(v) for v in value.reshape(-1)[[0, 1, 2, -3, -2, -1]].tolist()]
            body = f"[{', '.join(edges[:3])}, ..., {', '.join(edges[3:])}]"
        else:
            body = fmt(value.tolist())
        text = f"array({body}, dtype={value.dtype}, shape={value.shape})"
    elif type(value).__name__ == "FunctionRef":
        text = getattr(value, "name", None) or getattr(value, "path", "?")
    elif type(value) in (list, tuple) and any(isinstance(v, np.ndarray) for v in value[:8]):
        # arrays inside, described as above (a list of a network's weights, say)
        parts = [short(v, width) for v in value[:8]] + (["..."] if len(value) > 8 else [])
        text = "[{}]" if type(value) is list else "({})"
        text = text.format(", ".join(parts) + ("," if len(value) == 1 and type(value) is tuple else ""))
    else:
        text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _item(value) -> str:
    """A numpy scalar as plain Python shows it (1.5, not np.float64(1.5))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


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


def expect_value_error(result, what: str, hint: str) -> None:
    """``Fail`` unless the sandboxed call raised ValueError."""
    if result.ok:
        raise Fail(f"{what} returned {short(result.value, 80)}, expected it to raise "
                   f"ValueError.\nHint: {hint}")
    if result.error_kind != "exception" or "ValueError" not in (result.error or ""):
        raise Fail(f"{what} {result.error}; expected ValueError.\nHint: {hint}")


def as_array(value, what: str) -> np.ndarray:
    """The returned value as an ndarray; a 0-d numpy scalar counts (SPEC: output contract)."""
    if not isinstance(value, np.ndarray):
        raise Fail(f"{what} returned {short(value)}, expected a numpy array.\n"
                   "Hint: build the result with numpy operations so it is an np.ndarray.")
    return value


def numeric_answer(value, what: str):
    """``value`` unless it is no answer at all: a numeric ndarray or number, or a tuple/list
    of them (a pair of gradients). Checks that judge *how* a function computes (purity, speed)
    award nothing to a function that returns None, a string or an object instead."""
    parts = value if isinstance(value, (list, tuple)) and value else [value]
    if not all((isinstance(v, np.ndarray) and v.dtype.kind in "biuf")
               or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in parts):
        raise Fail(f"{what} returned {short(value)}, not an array of numbers, so there is "
                   "nothing to judge here.\nHint: compute the values with numpy and return "
                   "them as an np.ndarray.")
    return value


def mismatches(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> np.ndarray:
    """Boolean mask of the elements outside tolerance (NaN matches NaN only)."""
    expected = np.asarray(expected, dtype=np.float64)
    got64 = got.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~(np.abs(got64 - expected) <= atol + rtol * np.abs(expected))
    if bad.any():  # NaN and infinities compare unequal above: a NaN for a NaN is right
        bad &= ~((np.isnan(got64) & np.isnan(expected)) | (np.isinf(expected) & (got64 == expected)))
    return bad


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
        i = tuple(int(k) for k in i)
        at = (f"x = {_item(np.asarray(inputs)[i])}, " if inputs is not None
              and np.shape(inputs) == got.shape else "")
        rows.append(f"  at {at}index {i}: expected {_item(expected[i])}, got {_item(got[i])}")
    raise Fail(f"{what}: {int(bad.sum())} of {bad.size} values are wrong "
               f"(tolerance rtol={rtol:g}, atol={atol:g}):\n" + "\n".join(rows)
               + (f"\nHint: {hint}" if hint else ""))


# ---------------------------------------------------------------------------
# Shared helpers for the checks of elementwise functions (activations, derivatives)
# ---------------------------------------------------------------------------

def rng(key: str) -> np.random.Generator:
    """A generator seeded from ``config.SEED`` plus a stable offset for ``key`` (a check's
    own name), so every check draws its own inputs, the same ones on every run."""
    from .config import SEED

    return np.random.default_rng(SEED + zlib.crc32(key.encode()))


_CALLS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _key(value):
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_key(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, _key(v)) for k, v in value.items())))
    return (type(value).__name__, repr(value))


def call(sub, module: str, function: str, *args, readonly: bool = False):
    """``sub.call(module, function, *args)``, made once per sandbox: checks that need the
    very same call (same arguments, byte for byte) share its result, which keeps the
    number of calls into the sandbox, and so the grading time, small. Treat the result
    as read-only."""
    from .config import CALL_TIMEOUT

    memo = _CALLS.setdefault(sub, {})
    key = (module, function, readonly, _key(args))
    if key not in memo:
        memo[key] = sub.call(module, function, *args, timeout=CALL_TIMEOUT, readonly=readonly)
    _SEEN.append(_Seen(sub, key, module, function, args, {}, memo[key]))
    return memo[key]


# ---------------------------------------------------------------------------
# The gate: a property is credited only together with right values
# ---------------------------------------------------------------------------
# Every call a check makes through ``call`` or ``run`` is seen here. After a check of a kind
# in GATED_KINDS ends, the runner asks ``gate`` whether all the values that check observed
# were right: each seen call to a function with a registered verifier is verified (once per
# grade), and the first wrong one makes the whole check worth nothing. So no property
# (warnings, purity, speed, bounds, a self-consistent gradient, an experiment's claim) is
# ever earned by constants, zeros or fabricated results, and no check needs code of its own
# for it. A verifier may also name a probe, a call made before every check of its function
# whatever its kind, correctness included: the function must be right there too (a
# derivative, where a finite difference is not).

GATED_KINDS = frozenset({"behaviour", "gradient-check", "experiment"})


@dataclass(frozen=True)
class _Seen:
    sub: object
    key: tuple
    module: str
    function: str
    args: tuple
    kwargs: dict
    result: object
    probe: bool = False


@dataclass(frozen=True)
class _Verifier:
    module: str
    verify: Callable  # (value, args, kwargs) -> None, raising Fail when the value is wrong
    probe: tuple | None  # the probe call's arguments


_VERIFIERS: dict[str, _Verifier] = {}
_SEEN: list[_Seen] = []
_VERDICTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def verifier(module: str, function: str, probe: tuple | None = None):
    """Decorator: register ``verify(value, args, kwargs)`` for ``module.function``. It raises
    ``Fail`` when ``value`` (what the student's function returned for those arguments, as
    plain data) is not right: for a pure function, not the reference's answer within the
    contract's tolerance; for an experiment, not a run the grader can confirm. ``probe``:
    arguments of a call made before every check of ``function`` (see above)."""
    def register(verify):
        _VERIFIERS[function] = _Verifier(module, verify, probe)
        return verify
    return register


def begin_check(sub, function: str | None) -> None:
    """Forget the calls of the previous check; make ``function``'s probe call, if it has one."""
    _SEEN.clear()
    spec = _VERIFIERS.get(function or "")
    if sub is not None and spec is not None and spec.probe is not None:
        call(sub, spec.module, function, *spec.probe)
        _SEEN[-1] = replace(_SEEN[-1], probe=True)


def _verdict(seen: _Seen) -> str | None:
    """Why the value of a seen call is wrong (one line), or None when it is right."""
    verdicts = _VERDICTS.setdefault(seen.sub, {})
    if seen.key not in verdicts:
        result = seen.result
        try:
            value = result.value if result.ok else returned(
                result, call_text(seen.function, *seen.args, **seen.kwargs))
            _VERIFIERS[seen.function].verify(value, seen.args, seen.kwargs)
            verdicts[seen.key] = None
        except Fail as exc:  # one line: the first, and the hint when there is one
            lines = exc.message.split("\n")
            hint = next((ln for ln in lines[1:] if ln.startswith("Hint: ")), "")
            verdicts[seen.key] = lines[0].rstrip(".:") + (f" ({hint[6:].rstrip('.')})" if hint else "")
    return verdicts[seen.key]


def gate(kind: str) -> str | None:
    """The one line saying why the check that just ran (of ``kind``) earns nothing, or None.
    A probe is verified for every kind; the check's own calls for GATED_KINDS only (a
    correctness check compares its values itself, also when it makes the probe's call), and
    only those that returned (a check judges a raised error itself)."""
    own = {seen.key for seen in _SEEN if not seen.probe}
    for seen in _SEEN:
        if seen.function not in _VERIFIERS or not (seen.probe or kind in GATED_KINDS):
            continue
        if (not seen.probe and not seen.result.ok) or (seen.probe and seen.key in own
                                                        and kind not in GATED_KINDS):
            continue
        reason = _verdict(seen)
        if reason:
            return (f"Not credited: {reason}. Fix {seen.function}'s values first (its "
                    "correctness checks say where); this check counts only with right values.")
    return None


def real_array(value, what: str, shape=None, hint: str = "") -> np.ndarray:
    """``value`` as a real-valued ndarray of ``shape``, or ``Fail`` saying what is off."""
    value = as_array(value, what)
    if shape is not None and value.shape != tuple(shape):
        raise Fail(f"{what} returned shape {value.shape}, expected {tuple(shape)}.\nHint: "
                   + (hint or "an elementwise function returns an array shaped like its input "
                      "(np.asarray(x).shape, 0-d included)."))
    if value.dtype.kind not in "biuf":
        raise Fail(f"{what} returned dtype {value.dtype}, expected a floating array.")
    return value


def contract_dtype(x) -> np.dtype:
    """The result dtype SPEC's array contract asks for: floating input keeps its dtype,
    bool and integer input (and Python numbers and lists of them) give float64."""
    dtype = np.asarray(x).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def expect_no_warnings(result, what: str, hint: str = "") -> None:
    """``Fail`` if the call raised floating-point warnings (overflow, invalid, divide)."""
    bad = [w for w in (result.warnings or []) if w != "underflow"]
    if bad:
        raise Fail(f"{what} raised the floating-point warning(s): {', '.join(bad)}. For every "
                   "finite input with |x| <= 1e6 the contract allows none (underflow to 0 is fine)."
                   + (f"\nHint: {hint}" if hint else ""))


def _same(before, after) -> bool:
    if isinstance(before, np.ndarray):
        return (isinstance(after, np.ndarray) and after.dtype == before.dtype
                and after.shape == before.shape and np.array_equal(after, before, equal_nan=True))
    if isinstance(before, (list, tuple)):
        return (isinstance(after, (list, tuple)) and len(after) == len(before)
                and all(_same(b, a) for b, a in zip(before, after)))
    return before == after or (before != before and after != after)


def expect_pure(result, args, what: str) -> None:
    """``Fail`` if the call wrote to its arguments, printed anything, or returned no answer."""
    numeric_answer(returned(result, what), what)
    after = list(result.args_after or [])
    for i, before in enumerate(args):
        if i < len(after) and not _same(before, after[i]):
            raise Fail(f"{what} changed its argument {i + 1}: before the call it was "
                       f"{short(before, 100)}, after it {short(after[i], 100)}.\n"
                       "Hint: never write into the input (x[...] = ..., x *= ..., np.maximum(x, 0, "
                       "out=x)); build a new array, e.g. np.where(...) or np.maximum(x, 0).")
    if result.output:
        raise Fail(f"{what} printed {short(result.output.strip(), 100)}.\n"
                   "Hint: a function that computes values returns them and prints nothing; "
                   "remove the print (the grader calls it many times).")


def rel_error(a, n) -> np.ndarray:
    """CS231n's relative error |a - n| / max(1e-8, |a| + |n|), elementwise, in float64."""
    a = np.asarray(a, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.abs(a - n) / np.maximum(1e-8, np.abs(a) + np.abs(n))


def clip_to_range(got, lo, hi) -> np.ndarray:
    """The expected values for a result that may be anything in [lo, hi] elementwise (at a
    kink, any value between the one-sided derivatives): ``got`` itself where it lies in
    the range, else the nearer end (so the mismatch is reported against it)."""
    got = np.asarray(got, dtype=np.float64)
    lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
    return np.where(np.isnan(got), lo, np.clip(got, lo, hi))


# The inputs of the array contract's dtype and form checks, shared by every elementwise
# module: (float32 input) + int + bool must come back as float32 / float64 / float64; a 0-d
# array, a Python number and a nested list must be accepted like arrays.
INT_AND_BOOL_INPUTS = (np.array([[-3, -1, 0], [1, 2, 7]]), np.array([True, False, True]))
FORM_INPUTS = (np.array(-1.5), 2.5, [[-2.0, 0.5], [3.0, -0.25]])


def each_input(check, inputs) -> None:
    """``all_of`` over ``check(x)`` for every x in ``inputs``."""
    all_of(*(lambda x=x: check(x) for x in inputs))


def all_of(*parts) -> None:
    """Run the callables ``parts`` (each may raise ``Fail``) and fail with every message if
    any does, keeping the fraction of the points earned by the parts that passed."""
    messages = []
    for part in parts:
        try:
            part()
        except Fail as exc:
            messages.append(exc.message)
    if messages:
        raise Fail("\n\n".join(messages), fraction=1 - len(messages) / len(parts))


def expect_between(got, lo, hi, what: str, *, rtol: float, atol: float, inputs=None,
                   hint: str = "") -> np.ndarray:
    """``expect_close`` where the expected value is a range [lo, hi] elementwise (lo == hi
    but at a kink); returns the checked array."""
    got = as_array(got, what)
    if got.shape == np.shape(lo) and got.dtype.kind in "biuf":
        expected = clip_to_range(got, lo, hi)
    else:
        expected = np.asarray(lo)  # expect_close reports the shape or dtype
    expect_close(got, expected, what, rtol=rtol, atol=atol, inputs=inputs, hint=hint)
    return got


def expect_vectorised(sub, module: str, function: str, x, *args) -> None:
    """``Fail`` unless ``function(x, *args)`` works on whole arrays: the Python lines it
    runs in the submission's own code (counted in the sandbox, so load can't move them)
    must not grow with the input, beyond config.VECTOR_LINES_PER_ELEMENT per element, from
    the first config.VECTOR_SIZES[0] elements of ``x`` to the first VECTOR_SIZES[1]. A
    vectorised function runs the same lines whatever the size; a loop over the elements
    (for, a comprehension, np.vectorize or map calling the student's code) runs more."""
    from .config import VECTOR_LINES_PER_ELEMENT, VECTOR_SIZES

    numeric_answer(returned(call(sub, module, function, x, *args), call_text(function, x, *args)),
                   call_text(function, x, *args))
    flat = np.ravel(x)
    small, large = (flat[:n] for n in VECTOR_SIZES)
    counted = sub.count_lines(module, function, [small, large], *args, readonly=False)
    what = f"{function} on {small.size} and on {large.size} elements"
    if not counted.ok:
        raise Fail(f"{what} could not be checked for loops: it {counted.error}."
                   + (f"\nHint: {_ERROR_HINTS[counted.error_kind]}"
                      if counted.error_kind in _ERROR_HINTS else ""))
    lines_small, lines_large = counted.lines
    allowed = VECTOR_LINES_PER_ELEMENT * (large.size - small.size)
    if lines_large - lines_small > allowed:
        raise Fail(f"{what} ran {lines_small} and {lines_large} lines of your Python code: "
                   f"{lines_large - lines_small} more for {large.size - small.size} more "
                   f"elements (up to {allowed:.0f} more is fine), so it runs Python code per "
                   f"element, which on a large array costs Python loop time, not numpy time."
                   "\nHint: work on whole arrays at once (np.where, np.maximum, np.exp on the "
                   "array); a Python loop over the elements (for, a list comprehension, "
                   "np.vectorize or map over your function) costs 100 ns or more per element, "
                   "numpy a few, and a vectorised function runs the same lines whatever the size.")


# ---------------------------------------------------------------------------
# The array contract of an elementwise function, judged against ``bounds(x64, *args)``,
# a callable giving the accepted (lo, hi) in float64 (lo == hi except at a kink).
# ---------------------------------------------------------------------------

def expect_values(sub, module: str, function: str, x, args, bounds, *, hint: str,
                  readonly: bool = False) -> np.ndarray:
    """Call ``function(x, *args)``; ``Fail`` unless the values are within the contract's
    tolerance of ``bounds`` (float32 results against the float64 reference)."""
    from .config import ATOL32, ATOL64, RTOL32, RTOL64

    what = call_text(function, x, *args)
    got = returned(call(sub, module, function, x, *args, readonly=readonly), what)
    lo, hi = bounds(np.asarray(x, dtype=np.float64), *args)
    f32 = isinstance(got, np.ndarray) and got.dtype == np.float32
    return expect_between(got, lo, hi, what, rtol=RTOL32 if f32 else RTOL64,
                          atol=ATOL32 if f32 else ATOL64, inputs=x, hint=hint)


def expect_contract_dtype(sub, module: str, function: str, x, args, bounds, *,
                          hint: str) -> None:
    """``Fail`` unless ``function(x, *args)`` has the shape and dtype the array contract
    asks for (and the right values)."""
    what = call_text(function, x, *args)
    got = real_array(returned(call(sub, module, function, x, *args), what), what, np.shape(x))
    want = contract_dtype(x)
    if got.dtype != want:
        given = np.asarray(x).dtype
        raise Fail(f"{what} returned dtype {got.dtype}, expected {want} ("
                   + (f"{given} input gives float64" if given.kind != "f" else
                      "floating input keeps its dtype") + ").\nHint: "
                   + ("convert bool and int input once, e.g. x.astype(np.float64), and keep "
                      "floating input as it is." if given.kind != "f" else
                      "keep constants Python floats (1.0, not np.float64(1.0) or a float64 "
                      "array) so numpy does not promote float32 to float64; a derivative is "
                      "floating, never bool or int."))
    expect_values(sub, module, function, x, args, bounds, hint=hint)


def expect_safe(sub, module: str, function: str, x, args, *, hint: str) -> None:
    """``Fail`` if ``function(x, *args)`` on finite ``x`` raises a floating-point warning
    or returns a non-finite value."""
    what = call_text(function, x, *args)
    r = call(sub, module, function, x, *args)
    got = real_array(returned(r, what), what, np.shape(x))
    expect_no_warnings(r, what, hint)
    bad = ~np.isfinite(got)
    if bad.any():
        i = np.unravel_index(np.argmax(bad), bad.shape)
        raise Fail(f"{what} returned {got[i]!r} at x = {np.asarray(x)[i]!r}: every finite "
                   f"input must give a finite output.\nHint: {hint}")


def expect_pure_call(sub, module: str, function: str, x, args) -> None:
    """``Fail`` if ``function(x, *args)`` writes to its input, prints, or fails on a
    read-only copy of the input."""
    expect_pure(call(sub, module, function, x, *args), (x, *args), call_text(function, x, *args))
    what = call_text(function, x, *args) + " with x read-only"
    returned(call(sub, module, function, x, *args, readonly=True), what)


# ---------------------------------------------------------------------------
# Experiments: memoised calls with keyword arguments, returned dicts
# ---------------------------------------------------------------------------

def run(sub, module: str, function: str, *args, timeout: float | None = None,
        count_refs: bool = False, **kwargs):
    """``sub.call(module, function, *args, **kwargs)`` made once per sandbox (like ``call``,
    with keyword arguments and ``config.EXPERIMENT_TIMEOUT`` by default): every check of an
    experiment asks for the same call and judges a different part of what came back.
    ``count_refs``: see ``Sandbox.call``."""
    from .config import EXPERIMENT_TIMEOUT

    memo = _CALLS.setdefault(sub, {})
    key = ("run", module, function, _key(args), _key(kwargs)) + (("counted",) if count_refs else ())
    if key not in memo:
        memo[key] = sub.call(module, function, *args, kwargs=kwargs, count_refs=count_refs,
                             timeout=EXPERIMENT_TIMEOUT if timeout is None else timeout)
    _SEEN.append(_Seen(sub, key, module, function, args, kwargs, memo[key]))
    return memo[key]


def entry(value, path, what: str):
    """``value[k1][k2]...`` for ``path = (k1, k2, ...)``, or ``Fail`` naming the missing key."""
    got = value
    for i, key in enumerate(path):
        where = "".join(f"[{k!r}]" for k in path[:i])
        if isinstance(got, dict):
            if key not in got:
                have = ", ".join(repr(k) for k in list(got)[:12])
                raise Fail(f"{what} returned a dict whose {where or 'top level'} has no key "
                           f"{key!r} (its keys: {have or 'none'}).\nHint: return every entry the "
                           "docstring lists, with exactly those names.")
        elif isinstance(got, (list, tuple)) and isinstance(key, int):
            if not -len(got) <= key < len(got):
                raise Fail(f"{what}: {where or 'the result'} has {len(got)} entries, expected at "
                           f"least {key + 1}.")
        else:
            raise Fail(f"{what}: {where or 'the result'} is {short(got, 60)}, expected a "
                       f"{'dict' if isinstance(key, str) else 'list'}.")
        got = got[key]
    return got


def float_array(value, what: str, shape=None, *, finite: bool = True) -> np.ndarray:
    """``value`` (an array, a number, a list of numbers) as a float64 array of ``shape``,
    or ``Fail`` saying what is off."""
    if isinstance(value, bool) or not isinstance(value, (np.ndarray, int, float, list, tuple)):
        raise Fail(f"{what} is {short(value, 80)}, expected numbers (a numpy array).")
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Fail(f"{what} is {short(value, 80)}, expected an array of numbers.") from None
    if shape is not None and arr.shape != tuple(shape):
        raise Fail(f"{what} has shape {arr.shape}, expected {tuple(shape)}.")
    if finite and not np.isfinite(arr).all():
        raise Fail(f"{what} holds {int((~np.isfinite(arr)).sum())} NaN or infinite values "
                   f"(e.g. {short(arr[~np.isfinite(arr)][:3])}); expected finite numbers.")
    return arr


# ---------------------------------------------------------------------------
# Experiments replayed: the reference's own run of the same call, and a recorded training
# run judged against it
# ---------------------------------------------------------------------------

_REPLAYS: dict = {}


def _resolved(value):
    """An argument as the reference takes it: a FunctionRef becomes the function it names
    (numpy's, or the reference module's), lists and dicts are resolved inside."""
    if type(value).__name__ == "FunctionRef":
        if value.module == "numpy":
            return getattr(np, value.name.partition(".")[2])
        from .reference import function

        return function(value.module, value.name.partition(".")[2])
    if isinstance(value, (list, tuple)):
        return type(value)(_resolved(v) for v in value)
    if isinstance(value, dict):
        return {k: _resolved(v) for k, v in value.items()}
    return value


def replayed(module: str, function: str, *args, **kwargs):
    """The reference's ``function(*args, **kwargs)``, run in the grader: what an experiment
    must return for that call (its data, its training, every recorded step). Computed once
    per reference and machine (it depends on the grader's arguments only: ``replays`` keeps
    it on disk) and shared by every check and verifier that needs it; treat it as read-only."""
    from . import replays
    from .reference import function as reference

    key = (module, function, _key(args), _key(kwargs))
    if key not in _REPLAYS:
        value = replays.load(key)
        if value is None:
            with np.errstate(all="ignore"):
                value = reference(module, function)(*_resolved(args), **_resolved(kwargs))
            replays.store(key, value)
        _REPLAYS[key] = value
    return _REPLAYS[key]


def expect_trained(what: str, label: str, losses: np.ndarray, weights, biases, replay, *,
                   lr: float, activation: str) -> None:
    """``Fail`` unless a recorded training run is the one the grader replayed: every step's
    loss in ``losses`` and the parameters it ended at (``weights``, ``biases``) are those of
    ``replay = (weights, biases, losses)``, ``mlp.train`` run by the grader from the
    contract's start (rtol 1e-6: rounding, never a different run). ``label`` names the
    network ("the relu network's")."""
    r_weights, r_biases, r_losses = replay
    r_losses = np.asarray(r_losses, dtype=np.float64)
    if losses.shape != r_losses.shape:
        raise Fail(f"{what}: {label} losses have shape {losses.shape}, expected "
                   f"{r_losses.shape} (one loss per training step).")
    bad = mismatches(losses, r_losses, 1e-6, 1e-12)
    if bad.any():
        t = int(np.argmax(bad))
        got, want = _item(losses[t]), _item(r_losses[t])
        if t == 0:
            why = ("training did not start from the contract's start, or these are not its "
                   "losses.\nHint: start from the given init_params(...) with the experiment's "
                   "seed and train with mlp.train; return the losses it records.")
        elif t == 1:
            why = (f"this is not {activation} gradient descent at lr = {lr:g}.\nHint: pass the "
                   "experiment's lr on to mlp.train (its own default is 0.1) and train with "
                   f'ACTIVATIONS["{activation}"].')
        else:
            why = (f"{int(bad.sum())} of the {losses.size} recorded losses are not those of the "
                   "training (a history cut short, padded or made up earns nothing).\nHint: "
                   "train for all the steps asked for and return every loss mlp.train records.")
        raise Fail(f"{what}: {label} losses[{t}] is {got}, but replaying mlp.train from the "
                   f"contract's start gives {want} (the grader ran it): {why}")
    for kind, got_list, want_list in (("weights", weights, r_weights), ("biases", biases, r_biases)):
        for layer, (got, want) in enumerate(zip(got_list, want_list)):
            if mismatches(got, want, 1e-6, 1e-12).any():
                raise Fail(f"{what}: {label} {kind}[{layer}] are not the parameters training "
                           "ended at (the grader replayed mlp.train from the contract's start; "
                           f"largest difference {np.nanmax(np.abs(got - want)):.3g}).\nHint: "
                           "return the weights and biases mlp.train returns.")


def expect_networks_trained(what: str, nets: dict, replay: dict, *, lr: float) -> None:
    """``expect_trained`` for networks named after their activation, ``{name: (weights,
    biases, losses)}``, against the replayed result's ``replay[name]`` dicts."""
    for name, (weights, biases, losses) in nets.items():
        ref = replay[name]
        expect_trained(what, f'the "{name}" network\'s', losses, weights, biases,
                       (ref["weights"], ref["biases"], ref["losses"]), lr=lr, activation=name)


# ---------------------------------------------------------------------------
# Figures for the feedback: drawn in the grader, from results it verified
# ---------------------------------------------------------------------------

_FIGURES: dict = {}
FIGURE_DPI = 72
# PNGs this process drew, by a digest of what they were drawn from: a class's correct runs of
# an experiment mostly hand back the very same arrays, and drawing one figure (matplotlib's
# rendering and PNG encoding) costs about as much as grading the rest of a submission.
FIGURE_CACHE = 32
_PNGS: "collections.OrderedDict[str, bytes]" = collections.OrderedDict()


@dataclass(frozen=True)
class Drawing:
    """A feedback figure to draw: the course's given figure function and the validated data
    it is drawn from (plain values and arrays only)."""
    draw: Callable  # (*args, **kwargs) -> matplotlib Figure
    args: tuple
    kwargs: dict


def drawing(draw: Callable, *args, **kwargs) -> Drawing:
    return Drawing(draw, args, kwargs)


def figure(name: str):
    """Decorator: register ``plan(ran) -> Drawing`` as the feedback figure ``name`` (e.g.
    "circles.png"). ``plan`` takes results of calls the checks already made (``ran(module,
    function, *args, **kwargs)`` gives a call's returned value, or raises ``Fail`` when it was
    not made or failed), verifies them and keeps only validated arrays, and returns the
    course's given figure function with that data (``drawing``); it raises ``Fail`` when
    there is nothing verified to draw. The figure is drawn in the grader process. Student
    code draws nothing: figures are given code and earn no points."""
    def register(plan):
        _FIGURES[name] = plan
        return plan
    return register


def _digest(value, h) -> None:
    """Feed ``value`` (plain data: dicts, lists, tuples, arrays, numbers, strings) to ``h``."""
    if isinstance(value, np.ndarray):
        h.update(f"a{value.dtype.str}{value.shape}".encode())
        h.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        h.update(f"d{len(value)}".encode())
        for k in sorted(value, key=repr):
            _digest(k, h)
            _digest(value[k], h)
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__[0]}{len(value)}".encode())
        for v in value:
            _digest(v, h)
    else:
        h.update(f"{type(value).__name__}:{value!r};".encode())


def _png(name: str, plan: Drawing) -> bytes:
    """The PNG of ``plan``, drawn once per process for the same function and data."""
    h = hashlib.sha256(f"{name} {plan.draw.__module__}.{plan.draw.__qualname__} {FIGURE_DPI}".encode())
    _digest((plan.args, plan.kwargs), h)
    key = h.hexdigest()
    if key in _PNGS:
        _PNGS.move_to_end(key)
        return _PNGS[key]
    import io

    fig = plan.draw(*plan.args, **plan.kwargs)
    buf = io.BytesIO()
    with np.errstate(all="ignore"):
        fig.savefig(buf, format="png", dpi=FIGURE_DPI)
    _PNGS[key] = png = buf.getvalue()
    while len(_PNGS) > FIGURE_CACHE:
        _PNGS.popitem(last=False)
    return png


def ran(sub, module: str, function: str, *args, **kwargs):
    """The value a ``run`` of the checks returned for this very call; ``Fail`` if the checks
    did not make it or it failed."""
    result = _CALLS.get(sub, {}).get(("run", module, function, _key(args), _key(kwargs)))
    if result is None or not result.ok:
        raise Fail(f"{function} was not run successfully")
    return result.value


def draw_figures(sub) -> dict[str, bytes]:
    """PNG bytes of every registered figure there is something verified to draw for."""
    out = {}
    for name, plan in _FIGURES.items():
        try:
            drawn = plan(lambda *a, **k: ran(sub, *a, **k))
        except Fail:
            continue
        out[name] = _png(name, drawn)
    return out
