"""The hidden checks in lanes side by side: the same grade as from one lane, and no lane
outlives the grader."""
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import pytest

from autograder import config, runner
from autograder.runner import GradingError


def test_lanes_hold_every_check_file_once_in_order():
    files = sorted(p.name for p in config.CHECKS.glob("test_*.py"))
    assert runner.lanes(1) == [files]
    two = runner.lanes(2)
    assert len(two) == 2 and all(two)
    assert sorted(f for lane in two for f in lane) == files  # each file in one lane


def test_lanes_follow_the_cores_this_process_may_use(tmp_path, monkeypatch):
    cpu_max = tmp_path / "cpu.max"
    affinity = len(os.sched_getaffinity(0))
    for quota, cores in (("max 100000", affinity), ("100000 100000", 1),
                         ("150000 100000", 1), ("400000 100000", min(affinity, 4))):
        cpu_max.write_text(quota + "\n")
        assert runner.usable_cores(str(cpu_max)) == cores, quota
    assert runner.usable_cores(str(tmp_path / "none")) == affinity
    monkeypatch.setattr(runner, "usable_cores", lambda: 2)
    # alone, as a grader process is (earlier tests, e.g. a Dask client's, may leave threads here)
    with monkeypatch.context() as alone:
        alone.setattr(runner.threading, "active_count", lambda: 1)
        assert len(runner.lanes()) == len(config.CHECK_LANES)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:  # a grader with another thread running never forks
        assert len(runner.lanes()) == 1
    finally:
        stop.set()
        other.join()
    monkeypatch.setenv("AUTOGRADER_LANES", "1")
    assert len(runner.lanes()) == 1
    monkeypatch.setenv("AUTOGRADER_LANES", "two")
    with pytest.raises(GradingError, match="whole number"):
        runner.lanes()


def _with_bugs(tmp_path):
    """The reference with a bug in a module of each lane."""
    sub = tmp_path / "sub"
    shutil.copytree(config.SOLUTIONS, sub)
    with open(sub / "activations.py", "a") as f:
        f.write("\n\ndef relu(x):\n    return np.asarray(x, dtype=float)  # forgot the max\n")
    with open(sub / "saturation.py", "a") as f:
        f.write("\n\ndef sign_mixed_fraction(grads):\n    return 0.5\n")
    return sub


def test_two_lanes_grade_like_one(tmp_path):
    sub = _with_bugs(tmp_path)
    one = runner.grade(sub, lane_count=1, figures=True)
    two = runner.grade(sub, lane_count=2, figures=True)
    strip = lambda r: [(t.name, t.function, t.kind, t.score, t.output) for t in r.tests]
    assert strip(two) == strip(one)
    lost = {t.function for t in one.tests if not t.passed}
    assert {"relu", "sign_mixed_fraction"} <= lost
    assert (two.isolation, two.problems, two.internal, two.deaths) == \
        (one.isolation, one.problems, one.internal, one.deaths)
    assert sorted(two.figures) == sorted(one.figures) == [
        "circles.png", "dying_relu.png", "vanishing_gradients.png", "zigzag.png"]
    assert all(png.startswith(b"\x89PNG") for png in two.figures.values())


def _raise(exc):
    raise exc


def test_a_lane_hands_back_its_result_or_its_failure():
    assert runner._fork(sum, [1, 2])() == 3
    with pytest.raises(GradingError, match="could not be collected"):
        runner._fork(_raise, GradingError("the hidden checks could not be collected"))()
    with pytest.raises(GradingError, match="died before it reported"):
        runner._fork(os._exit, 3)()


def _children(pid):
    out = []
    for name in os.listdir("/proc"):
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if name.isdigit() and int(fields[1]) == pid and fields[0] != b"Z":
            out.append(int(name))
    return out


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_no_lane_outlives_a_killed_grader(tmp_path):
    sub = tmp_path / "sub"
    shutil.copytree(config.SOLUTIONS, sub)
    for name in ("linear_collapse", "saturation"):  # the second lane's modules hang at import
        (sub / f"{name}.py").write_text("import time\ntime.sleep(3600)\n")
    grader = subprocess.Popen(
        [sys.executable, "-c", f"from autograder import runner; runner.grade({str(sub)!r}, lane_count=2)"],
        cwd=config.ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        lane = None
        while lane is None and time.monotonic() < deadline:
            for pid in _children(grader.pid):
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"runner.grade" in f.read():  # a forked copy keeps the grader's command
                        lane = pid
            time.sleep(0.05)
        assert lane is not None, "the grader started no lane"
        time.sleep(1.0)  # the lane waits on an import that hangs (10 s each, two modules)
        assert _alive(lane)
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        deadline = time.monotonic() + 5
        while _alive(lane) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(lane), "the lane went on grading after its grader was killed"
    finally:
        grader.kill()
        grader.wait()


def test_a_lane_with_no_check_selected_uses_no_sandbox():
    result = runner.grade(config.SOLUTIONS, select="test_activations", lane_count=2)
    assert result.tests and {t.function for t in result.tests} <= {
        "sigmoid", "tanh", "relu", "relu6", "leaky_relu", "prelu", "elu", "gelu", "swish"}
    assert result.isolation in ("bubblewrap", "process")  # one lane's sandbox, named once
    nothing = runner.grade(config.SOLUTIONS, select="no_such_check", lane_count=2)
    assert nothing.tests == [] and nothing.isolation == "none (no check ran)"
