"""The replays' disk cache: what is read back is what was computed, and a cache that is
broken, stale or unwritable is passed over, never believed and never an error."""
import numpy as np
import pytest

from autograder import config, judge, replays

CALL = ("saturation", "sign_mixing_experiment", (), {"n_vectors": 50, "n_inputs": 4, "seed": 3})


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "REPLAY_CACHE", tmp_path / "replays")
    monkeypatch.setattr(judge, "_REPLAYS", {})
    return tmp_path / "replays"


def _replay():
    module, function, args, kwargs = CALL
    return judge.replayed(module, function, *args, **kwargs)


def _same(a, b):
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return type(a) is type(b) and a == b


def test_a_replay_is_stored_once_and_read_back_unchanged(cache, monkeypatch):
    computed = _replay()
    files = list(cache.rglob("*.agw"))
    assert len(files) == 1
    monkeypatch.setattr(judge, "_REPLAYS", {})
    monkeypatch.setattr("autograder.reference.function", lambda *a: pytest.fail("recomputed"))
    read = _replay()
    assert _same(computed, read)
    arrays = [v for v in read.values() if isinstance(v, np.ndarray)]
    assert arrays and not any(a.flags.writeable for a in arrays)  # read-only, as promised


def test_a_damaged_file_is_computed_again(cache, monkeypatch):
    computed = _replay()
    (path,) = cache.rglob("*.agw")
    path.write_bytes(path.read_bytes()[:100])
    monkeypatch.setattr(judge, "_REPLAYS", {})
    assert _same(computed, _replay())
    assert path.stat().st_size > 100  # and stored whole again


def test_another_reference_never_reads_this_ones_replays(cache, monkeypatch):
    _replay()
    module, function, args, kwargs = CALL
    assert replays.load((module, function, judge._key(args), judge._key(kwargs))) is not None
    monkeypatch.setattr(replays, "reference_fingerprint", lambda: "another-reference")
    module, function, args, kwargs = CALL
    assert replays.load((module, function, judge._key(args), judge._key(kwargs))) is None


def test_an_unwritable_cache_is_only_slower(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(config, "REPLAY_CACHE", blocker / "replays")
    monkeypatch.setattr(judge, "_REPLAYS", {})
    assert isinstance(_replay(), dict)
