"""The one result model every report writer reads."""
from __future__ import annotations

import operator
from dataclasses import asdict, dataclass, field


@dataclass
class TestResult:
    """One check: its own points, its kind and the function it exercises."""

    name: str
    function: str
    kind: str
    score: float
    max_score: float
    output: str = ""
    public: bool = False

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score

    @property
    def status(self) -> str:
        return "passed" if self.passed else "failed"


_TEST_FIELDS = operator.itemgetter(*TestResult.__dataclass_fields__)


@dataclass
class GradeResult:
    """A graded submission: the tests plus what is known about the run."""

    submission: str
    tests: list[TestResult] = field(default_factory=list)
    isolation: str = ""
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)  # for the student: missing modules, ...
    internal: list[str] = field(default_factory=list)  # for the instructor: checks that broke
    figures: dict[str, bytes] = field(default_factory=dict, repr=False)  # PNGs the experiments drew
    # Student processes that died abruptly during the grade (Sandbox.deaths); not reported.
    deaths: list[str] = field(default_factory=list, repr=False)

    @property
    def score(self) -> float:
        return round(sum(t.score for t in self.tests), 6)

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)

    def by_function(self) -> dict[str, tuple[float, float]]:
        """function -> (score, max score), in first-seen order."""
        totals: dict[str, list[float]] = {}
        for t in self.tests:
            s = totals.setdefault(t.function, [0.0, 0.0])
            s[0] += t.score
            s[1] += t.max_score
        return {f: (round(s, 6), round(m, 6)) for f, (s, m) in totals.items()}

    def to_dict(self) -> dict:
        return {
            "submission": self.submission,
            "isolation": self.isolation,
            "seconds": self.seconds,
            "problems": list(self.problems),
            "internal": list(self.internal),
            "score": self.score,
            "max_score": self.max_score,
            "tests": [asdict(t) | {"status": t.status} for t in self.tests],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "GradeResult":
        try:  # every field given (to_dict's, a gradebook row's): a few hundred at C speed
            tests = [TestResult(*_TEST_FIELDS(t)) for t in data["tests"]]
        except KeyError:
            fields = TestResult.__dataclass_fields__
            tests = [TestResult(**{k: v for k, v in t.items() if k in fields}) for t in data["tests"]]
        return cls(data["submission"], tests, data.get("isolation", ""),
                   data.get("seconds", 0.0), list(data.get("problems", [])),
                   list(data.get("internal", [])))
