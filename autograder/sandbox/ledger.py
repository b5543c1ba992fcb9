"""What a sandbox remembers of calls that went wrong, so each failure costs only its own.

A function that hung is not called again (each call would cost another full timeout); a
module that failed to import is not imported again; a module whose calls stopped the worker
``max_worker_restarts`` times is not called again, whatever lane it runs in, and the worker
is restarted at most ``max_worker_restarts_total`` times in all. Deaths (student processes
killed or crashed, not failures of the code's own making) are listed for ``batch``, which
regrades to tell a kill from outside from what the code does every time.
"""
from __future__ import annotations

from .records import ErrorKind, Limits

Refusal = tuple  # (error_kind, error, output)


class Ledger:
    def __init__(self, limits: Limits):
        self.limits = limits
        self.failed_modules: dict[str, Refusal] = {}
        self._given_up: dict[str, dict[tuple[str, str], tuple[ErrorKind, str]]] = {
            "call": {}, "lines": {}}
        self._losses: dict[str, int] = {}  # module -> times its calls stopped the worker
        self.restarts = 0
        self.deaths: list[str] = []
        self._dead_reason: str | None = None

    def refusal(self, op: str, module: str, function: str) -> Refusal | None:
        """Why ``module.function`` is not called again, or None."""
        if module in self.failed_modules:
            return self.failed_modules[module]
        kind_error = self._given_up[op].get((module, function))
        return None if kind_error is None else (*kind_error, "")

    def restart(self) -> str | None:
        """Count a worker restart; why none is allowed any more, or None."""
        if self.restarts >= self.limits.max_worker_restarts_total:
            return (f"the sandbox worker was restarted {self.restarts} times; no more calls "
                    f"are made ({self._dead_reason})")
        self.restarts += 1
        return None

    def replied(self, module: str, function: str, kind: ErrorKind | None, error: str | None,
                output: str, *, died: bool, module_failed: bool, timeout: float) -> None:
        """Remember what a reply says of the module or the function."""
        if kind == "crash" or died:
            self.deaths.append(f"{module}.{function}: {error}")
        if module_failed and kind in ("import", "missing", "memory"):
            self.failed_modules[module] = (kind, error, output)
        elif kind == "timeout":
            for memo in self._given_up.values():
                memo[(module, function)] = ("timeout", f"timed out earlier (did not finish "
                                                       f"within {timeout:g} s); not called again")

    def worker_lost(self, op: str, module: str, function: str, why: str,
                    phase: str | None) -> tuple[ErrorKind, str]:
        """The worker died or hung (``why``) during a call, or while importing ``phase``
        for it: (error_kind, message) of the call, and what is not called again."""
        self.deaths.append(f"{module}.{function}: the sandbox worker {why}")
        what, kind = ("stopped answering", "timeout") if why == "hung" else (
            "died" if why == "died" else why, "crash")
        self._dead_reason = f"the last time it {what}"
        if phase is not None:
            err = (f"importing {phase}.py made the sandbox worker stop ({what}: did it kill or "
                   f"stop its parent process?)")
            self.failed_modules[phase] = ("import", err, "")
            if phase == module:
                return "import", err
        err = (f"the call made the sandbox worker stop ({what}: did it kill or stop its parent "
               f"process?); the worker is restarted for the next call")
        self._given_up[op][(module, function)] = (
            kind, f"stopped the sandbox worker earlier ({what}); not called again")
        if phase is None:  # the module's own call, not an import it needed, stopped it
            losses = self._losses[module] = self._losses.get(module, 0) + 1
            if losses >= self.limits.max_worker_restarts:
                err += (f", but no other function of {module}.py is called again: it stopped "
                        f"the worker {losses} times")
                self.failed_modules[module] = (
                    kind, f"{module}.py stopped the sandbox worker {losses} times (the last time "
                          f"it {what}); none of its functions is called again", "")
        return kind, err
