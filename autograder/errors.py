"""The two kinds of failure the command line tells apart, light to import for every command."""


class InputError(ValueError):
    """What the user gave can't be used (a submission, a marker, a gradebook, an option): the
    message says what to fix; nothing was lost."""


class GradingError(RuntimeError):
    """The grader itself could not grade (not the student's fault)."""
