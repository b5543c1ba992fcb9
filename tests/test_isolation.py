"""The isolation decision on plain facts: no process started, every branch reached."""
import pytest

from autograder.sandbox.isolation import Facts, Unavailable, choose_isolation

OK, NO = (True, ""), (False, "user namespaces are off")


class Probes(dict):
    """Probes as a test states them; asking for one it did not state is a failure."""

    def __missing__(self, mode):
        pytest.fail(f"probed {mode!r}, which this case rules out")


def facts(requested="auto", bwrap="/usr/bin/bwrap", uid=1_900_000_001, blocked=None, **probes):
    return Facts(requested, bwrap, uid, blocked, 0 if uid else 1000,
                 Probes({k.replace("_", "-"): v for k, v in probes.items()}))


def test_root_with_bubblewrap_runs_it_as_the_sandbox_uid():
    plan = choose_isolation(facts(as_uid=OK))
    assert (plan.level, plan.run_uid, plan.map_uid, plan.owns_uid) == \
        ("bubblewrap", 1_900_000_001, None, True)
    assert "RLIMIT_NPROC in effect" in plan.detail


def test_an_unreachable_runtime_starts_bubblewrap_as_root_with_the_uid_inside():
    plan = choose_isolation(facts(blocked="/root/venv", mapped=OK))
    assert (plan.level, plan.run_uid, plan.map_uid, plan.owns_uid) == \
        ("bubblewrap", None, 1_900_000_001, False)
    assert "/root/venv is not reachable" in plan.detail


def test_a_failed_probe_as_the_uid_falls_back_to_the_mapped_uid_and_says_why():
    plan = choose_isolation(facts(as_uid=NO, mapped=OK))
    assert plan.map_uid == 1_900_000_001 and "user namespaces are off" in plan.detail


def test_not_root_uses_bubblewrap_as_the_graders_uid():
    plan = choose_isolation(facts(uid=None, self=OK))
    assert (plan.level, plan.run_uid, plan.map_uid) == ("bubblewrap", None, None)
    assert "grader's uid 1000" in plan.detail


@pytest.mark.parametrize("case, run_uid, words", [
    (dict(as_uid=NO, mapped=NO), 1_900_000_001, "plain process as unprivileged uid"),
    (dict(blocked="/root/venv", mapped=NO), None, "plain process as the grader's uid (root)"),
    (dict(uid=None, self=NO), None, "plain process as the grader's uid 1000"),
    (dict(bwrap=None), 1_900_000_001, "bwrap is not installed"),
])
def test_without_bubblewrap_a_plain_process_says_what_it_can_reach(case, run_uid, words):
    plan = choose_isolation(facts(**case))
    assert (plan.level, plan.run_uid) == ("process", run_uid)
    assert words in plan.detail and plan.plain_caveat in plan.detail


def test_process_isolation_when_asked_probes_nothing():
    plan = choose_isolation(facts(requested="process"))
    assert plan.level == "process" and "(bubblewrap:" not in plan.detail


@pytest.mark.parametrize("case", [dict(bwrap=None), dict(as_uid=NO, mapped=NO), dict(uid=None, self=NO)])
def test_bubblewrap_required_and_unavailable_is_refused_with_the_reason(case):
    with pytest.raises(Unavailable, match="bubblewrap isolation is not available: .+"):
        choose_isolation(facts(requested="bubblewrap", **case))
