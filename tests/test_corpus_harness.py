"""The corpus harness swaps exactly the named functions."""
from tests.corpus import swap

MODULE = '''import numpy as np


def a(x):
    """doc a"""
    return x


def b(x):
    return a(x) + 1
'''


def test_swap_replaces_only_the_named_function():
    out = swap(MODULE, "def b(x):\n    return 42\n")
    assert "return 42" in out and "return a(x) + 1" not in out
    assert '"""doc a"""' in out and out.startswith("import numpy as np")


def test_swap_appends_new_functions_and_statements():
    out = swap(MODULE, "import math\n\ndef c(x):\n    return math.pi\n")
    assert out.rstrip().endswith("return math.pi") and "import math" in out
    ns = {}
    exec(compile(out, "m", "exec"), ns)
    assert ns["c"](0) > 3 and ns["b"](1) == 2
