"""docs/grading.md is the points table the grader really pays, and values weigh most."""
from autograder.workflows import points


def test_grading_doc_is_generated_from_the_checks():
    assert points.DOC.read_text(encoding="utf-8") == points.markdown(), (
        "docs/grading.md is out of date: run `python -m autograder points`")


def test_values_carry_most_of_each_functions_points():
    infos = points.checks()
    assert len(infos) > 200 and len({c.name for c in infos}) == len(infos)
    totals: dict[str, dict[str, float]] = {}
    for c in infos:
        row = totals.setdefault(c.function, {})
        row[c.kind] = row.get(c.kind, 0.0) + c.points
    for function, row in totals.items():
        values = row.get("correctness", 0.0) + row.get("gradient-check", 0.0)
        if values:  # an experiment's values: the run the grader replays or recomputes
            assert values > 0.5 * sum(row.values()), (function, row)
