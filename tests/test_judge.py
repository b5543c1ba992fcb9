"""How checks describe arrays in feedback (autograder/judge.py)."""
import numpy as np

from autograder import judge
from autograder.judge import call_text, short


def test_a_large_array_shows_its_edges_to_numpys_precision():
    x = np.linspace(-1e6, 1e6, 11)
    assert short(x) == ("array([-1000000.0, -800000.0, -600000.0, ..., 600000.0, 800000.0, "
                        "1000000.0], dtype=float64, shape=(11,))")
    thirds = np.full((3, 4), 1 / 3)
    assert short(thirds).startswith("array([0.33333333, 0.33333333, 0.33333333, ..., ")
    tiny32 = np.full(10, 1e-20, dtype=np.float32)  # float32's own digits, not float64's
    assert short(tiny32).startswith("array([1e-20, 1e-20, 1e-20, ..., ")
    assert short(np.arange(20)) == "array([0, 1, 2, ..., 17, 18, 19], dtype=int64, shape=(20,))"
    assert "nan, inf, -inf]" in short(np.array([0.0] * 7 + [np.nan, np.inf, -np.inf]))


def test_a_small_array_is_shown_whole_and_text_is_capped():
    assert short(np.array([1.0, -2.5])) == "array([1.0, -2.5], dtype=float64, shape=(2,))"
    assert short(np.array([[0.1, 1 / 3]], dtype=np.float32)) == \
        "array([[0.1, 0.3333333]], dtype=float32, shape=(1, 2))"
    assert short("x" * 500, 20) == "'" + "x" * 16 + "..."
    assert call_text("elu", np.zeros(2), alpha=0.5) == \
        "elu(array([0.0, 0.0], dtype=float64, shape=(2,)), alpha=0.5)"


def test_arrays_in_a_list_are_described_like_arrays():
    weights = [np.eye(2), np.zeros(3)]
    assert short(weights) == ("[array([[1.0, 0.0], [0.0, 1.0]], dtype=float64, shape=(2, 2)), "
                              "array([0.0, 0.0, 0.0], dtype=float64, shape=(3,))]")
    assert short((np.ones(1),)) == "(array([1.0], dtype=float64, shape=(1,)),)"


def test_a_figure_is_drawn_once_for_the_same_verified_data(monkeypatch):
    from matplotlib.figure import Figure

    drawn = []

    def plot(values, title=""):
        drawn.append(values)
        fig = Figure(figsize=(2, 2))
        fig.add_subplot().plot(values)
        fig.suptitle(title)
        return fig

    monkeypatch.setattr(judge, "_PNGS", type(judge._PNGS)())
    first = judge._png("t.png", judge.drawing(plot, np.arange(4.0), title="a"))
    again = judge._png("t.png", judge.drawing(plot, np.arange(4.0), title="a"))  # equal data
    assert first.startswith(b"\x89PNG") and again == first and len(drawn) == 1
    judge._png("t.png", judge.drawing(plot, np.arange(4.0) + 1e-12, title="a"))  # other data
    judge._png("t.png", judge.drawing(plot, np.arange(4.0), title="b"))
    judge._png("other.png", judge.drawing(plot, np.arange(4.0), title="a"))
    assert len(drawn) == 4
    for i in range(judge.FIGURE_CACHE + 5):  # the cache stays bounded
        judge._png("t.png", judge.drawing(plot, np.full(2, float(i))))
    assert len(judge._PNGS) == judge.FIGURE_CACHE
