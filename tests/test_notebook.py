"""Notebook submissions: what of a notebook runs, how its errors point at cells, and the example
notebook students. Small notebooks are built with nbformat; the generated module is imported in
this process (it is the tests' own content) or run through the sandbox."""
import importlib.util
import inspect
import itertools
import subprocess
import sys
import textwrap
import time
import traceback
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import errors
from grader.sandbox.child import _describe, _student_frames
from grader.sandbox.host import Call, SandboxLimits
from grader.submission.notebook import (NOTEBOOK_SUFFIX, NotebookError, SkippedCode, convert,
                                        from_bytes, read_notebook, to_module)

from conftest import EXAMPLES, ROOT

_count = itertools.count()


def notebook(*cells, **metadata):
    """A notebook from cell texts: code cells, or markdown ones when they start with "# "."""
    return new_notebook(cells=[new_markdown_cell(c) if c.startswith("# ") else
                               new_code_cell(textwrap.dedent(c).lstrip("\n")) for c in cells],
                        metadata=metadata)


def convert_cells(*cells):
    return convert(notebook(*cells), "rnn.ipynb")


def load(converted, directory: Path):
    """Import the generated module from `directory` as the sandbox child would."""
    path = directory / converted.module_file
    path.write_text(converted.source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"notebook_{next(_count)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def public(module):
    return sorted(n for n in vars(module) if not n.startswith("__"))


# ---- reading ------------------------------------------------------------------------------------

def test_a_notebook_file_becomes_the_module_of_its_name(tmp_path):
    path = tmp_path / f"optim{NOTEBOOK_SUFFIX}"
    nbformat.write(notebook("# Optimizers", "def f(x):\n    return 2 * x"), path)
    converted = to_module(path)
    assert (converted.name, converted.module_file) == ("optim.ipynb", "optim.py")
    assert load(converted, tmp_path).f(3) == 6
    assert converted.warnings == () and converted.skipped == ()
    assert converted.definitions == {1: ("f",)}


@pytest.mark.parametrize("content, reason", [
    (b"import numpy as np\n\ndef f(x):\n    return x\n", "its content is not a notebook's (JSON)"),
    (b"", "is empty"),
    (b"\x89PNG\r\n\x1a\n\xff\xfe", "it is not text"),
    (b"[1, 2]", "can read ("),
    (b'{"nbformat": 4, "nbformat_minor": 4}', "can read (The notebook is invalid"),
    (b'{"nbformat": 9, "nbformat_minor": 0, "cells": []}', "Unsupported nbformat version 9"),
])
def test_a_file_that_is_not_a_notebook_gets_a_sentence(content, reason):
    with pytest.raises(NotebookError) as raised:
        from_bytes(content, "rnn.ipynb")
    assert isinstance(raised.value, ValueError)
    message = str(raised.value)
    assert message.startswith("rnn.ipynb is ") and reason in message
    assert message.endswith("Open it in Jupyter (or Colab), save it, and submit the .ipynb file "
                            "again.")


def test_not_json_message_in_full(tmp_path):
    path = tmp_path / "rnn.ipynb"
    path.write_text("def f(x):\n    return x\n")
    with pytest.raises(NotebookError, match="^rnn.ipynb is not a Jupyter notebook: its content is "
                       r"not a notebook's \(JSON\) format. Open it in Jupyter \(or Colab\), save "
                       r"it, and submit the .ipynb file again.$"):
        read_notebook(path.read_bytes(), path.name)


def test_a_notebook_nested_too_deeply_for_the_reader_is_a_student_error():
    deep = ('{"cells": ' + "[" * 50_000 + "]" * 50_000
            + ', "nbformat": 4, "nbformat_minor": 5, "metadata": {}}').encode()
    with pytest.raises(NotebookError, match="^rnn.ipynb is not a Jupyter notebook the grader can "
                                            r"read \(.*\). Open it in Jupyter"):
        from_bytes(deep, "rnn.ipynb")


def test_a_notebook_with_more_code_than_the_grader_reads_is_refused():
    data = nbformat.writes(notebook("X = [" + "1, " * 400_000 + "]")).encode()
    with pytest.raises(NotebookError, match=r"^rnn.ipynb holds 1.1 MB of code in its cells, more "
                                            "than the 1 MB the grader reads: load data from a "
                                            "file instead of pasting it into a cell, and submit "
                                            "the notebook again.$"):
        from_bytes(data, "rnn.ipynb")


def test_a_notebook_with_too_many_values_is_refused_before_it_is_read():
    """Reading a JSON value costs the grader up to half a kilobyte: a notebook of a million
    empty mappings in a megabyte would take gigabytes. What a notebook's strings hold is not
    counted: long outputs with many commas in their lines are read."""
    padded = notebook("def g():\n    return 2")
    padded.metadata["x"] = [{}] * 150_000
    with pytest.raises(NotebookError, match=r"^rnn.ipynb holds more than 200,000 values \(cells, "
                                            r"lines of code and of outputs\), more than the "
                                            r"grader reads: clear its outputs"):
        from_bytes(nbformat.writes(padded).encode(), "rnn.ipynb")
    wordy = notebook("def g():\n    return 2")
    wordy.cells[0].outputs = [nbformat.v4.new_output(
        "stream", name="stdout", text="".join(f"{i}, {i}, {i}: {i}\n" for i in range(100_000)))]
    assert from_bytes(nbformat.writes(wordy).encode(), "rnn.ipynb").source


@pytest.mark.parametrize("cells, skipped", [
    (["x = 1\n" + " " * 200_000 + "y z\n",  # spaces, then words, no `=`: IPython's, to a regex
      "x = 1\n" * 100_000 + "%magic\n" * 100 + "def f(:\n",  # broken anew at each line fixed
      "!ls\nx = f\'\'\'" + "{0}\n" * 40_000 + "\'\'\'\n"], 2),  # pieces that span all of it
    (["a = 1\n" * 80_000], 0),  # statements, each checked by the compiler
    (["x = 1\n" * 3_300 + "%magic\n" * 100 + "def f(:\n"] * 50, 50),  # fixed again in each cell
    (["=".join(f"n{i}" for i in range(60_000)) + " = 1\n" + "if 1: 0\n" * 35_000], 0),  # known
], ids=["lines", "statements", "cells", "names"])
def test_reading_a_hostile_notebook_takes_time_in_proportion_to_its_length(tmp_path, cells,
                                                                          skipped):
    """The grader reads notebooks in its own process: in time that grows with their size (run
    in a child, stopped long before the old readings, in the square of it, would end; the
    lines a notebook's cells fix one at a time are parsed again within one budget for the
    whole notebook, not one for each cell; an `if` that is dropped forgets the names it
    taught without copying all the names known)."""
    path = tmp_path / "rnn.ipynb"
    nbformat.write(notebook(*cells, "def g():\n    return 2"), path)
    script = ("import pathlib, sys; from grader.submission.notebook import to_module; "
              "print(len(to_module(pathlib.Path(sys.argv[1])).skipped))")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          text=True, timeout=20, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == str(skipped), done.stderr


def test_an_r_notebook_is_refused(tmp_path):
    path = tmp_path / "rnn.ipynb"
    nbformat.write(notebook("f <- function(x) x", kernelspec={"name": "ir", "language": "R",
                                                              "display_name": "R"}), path)
    with pytest.raises(NotebookError, match="^rnn.ipynb is a R notebook: the grader needs a "
                                            "Python one.$"):
        to_module(path)


@pytest.mark.parametrize("minor", [0, 2, 4, 5])
def test_every_v4_minor_with_stale_outputs_and_any_execution_counts(tmp_path, minor):
    nb = notebook("def f(x):\n    return x + 1", "print(f(1))", "for i in range(3):\n    f(i)")
    nb.nbformat_minor = minor
    for cell, count in zip(nb.cells, [7, None, 3]):
        cell.execution_count = count
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="old output\n"),
                        nbformat.v4.new_output("error", ename="NameError", evalue="x",
                                               traceback=["Traceback ...", "NameError: x"])]
        if minor < 5:
            del cell["id"]
            cell.metadata = {"id": "colab-id", "outputId": "abc"}
    nb.metadata = {"colab": {"provenance": [], "name": "rnn.ipynb"}, "accelerator": "GPU",
                   "kernelspec": {"name": "python3", "display_name": "Python 3"}}
    path = tmp_path / "rnn.ipynb"
    nbformat.write(nb, path)
    assert nbformat.validate(nbformat.read(path, as_version=4)) is None
    module = load(to_module(path), tmp_path)
    assert module.f(1) == 2


def test_a_version_3_notebook_is_converted(tmp_path):
    from nbformat import v3
    nb = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[
        v3.new_text_cell("markdown", source="# Old"),
        v3.new_code_cell(input="def f(x):\n    return 3 * x", prompt_number=4)])])
    path = tmp_path / "rnn.ipynb"
    path.write_text(nbformat.writes(nb, version=nbformat.NO_CONVERT))
    assert load(to_module(path), tmp_path).f(2) == 6


# ---- what runs ----------------------------------------------------------------------------------

def test_only_imports_definitions_and_constants_run(tmp_path, capsys):
    converted = convert_cells(
        """
        import numpy as np
        from math import pi as PI
        print("top-level print")
        np.random.seed(0)
        X = np.random.randn(3)
        open("written-by-the-notebook.txt", "w").write("no")
        assert False, "a top-level test"
        """,
        """
        def train_step():
            raise AssertionError("training ran")

        for epoch in range(10**9):
            train_step()
        while True:
            pass
        with open("data.csv") as data:
            rows = data.read()
        train_step()
        raise SystemExit("a top-level exit")
        """,
        """
        class Layer:
            scale = 2.0

            def forward(self, x):
                return self.scale * x

        def f(x):
            return Layer().forward(x) + PI
        """)
    start = time.monotonic()
    module = load(converted, tmp_path)
    assert time.monotonic() - start < 1
    assert public(module) == ["Layer", "PI", "f", "np", "train_step"]
    assert module.f(1.0) == 2.0 + np.pi
    assert capsys.readouterr() == ("", "")
    assert not (tmp_path / "written-by-the-notebook.txt").exists()
    assert converted.definitions == {2: ("train_step",), 3: ("Layer", "f")}


@pytest.mark.parametrize("statement, kept", [
    ("N = 3", True),
    ("a, (b, *c) = 1, (2.5, 3, 4)", True),
    ("LR: float = 0.1", True),
    ("N = 3\nN += 1", True),
    ("EPS = 1e-8 if True else -1e-8", True),
    ("SHAPE = (2, 3)\nSIZE = SHAPE[0] * SHAPE[1] ** 2", True),
    ("TAU = np.pi * 2", True),
    ("CONFIG = {'lr': 0.1, 'steps': [1, 2], **{}}", True),
    ("relu = lambda z, floor=0.0: np.maximum(z, floor)", True),
    ("DTYPE = float", True),
    ("W = np.zeros(3)", False),
    ("Z = UNKNOWN + 1", False),
    ("SQUARES = [i * i for i in range(3)]", False),
    ("np.seterr = None", False),
    ("M += 1", False),
    ("relu = lambda z, floor=np.zeros(1): z", False),
])
def test_which_constants_are_kept(tmp_path, statement, kept):
    module = load(convert_cells("import numpy as np", statement), tmp_path)
    name = statement.split("\n")[-1].split("=")[0].split(":")[0].strip(" +*(").split(",")[0]
    assert (name in vars(module)) is kept


def test_if_and_try_keep_what_they_guard(tmp_path, capsys):
    module = load(convert_cells(
        """
        try:
            import numpy as np
            FAST = True
        except ImportError:
            print("no numpy")
            FAST = False
        finally:
            print("checked")
        try:
            from not_a_course_module import *
        except ImportError:
            print("not_a_course_module.py not found: the checks are skipped")
        if FAST:
            def f(x):
                return np.sum(x)
            f(np.ones(3))
        else:
            def f(x):
                return sum(x)
        if __name__ == "__main__":
            print("main")
        """), tmp_path)
    assert module.FAST is True and module.f(np.ones(4)) == 4
    assert capsys.readouterr() == ("", "")


def test_magics_and_shell_escapes_are_dropped(tmp_path):
    converted = convert_cells(
        """
        !pip install numpy
        %matplotlib inline
        %load_ext autoreload
        %autoreload 2
        %cd somewhere
        files = !ls
        np.dot?
        ?np.dot
        import numpy as np
        """,
        """
        def f(x):
            %time y = x + 1
            return 2 * x
        """,
        """
          %matplotlib inline
          def g():
              return "indented cell"
        """,
        """
        def h():
            # a 100 % comment, and a string with a magic-looking line:
            return '''
        %not a magic
        !nor a shell escape'''
        """)
    module = load(converted, tmp_path)
    assert module.f(2) == 4 and module.g() == "indented cell"
    assert module.h() == "\n%not a magic\n!nor a shell escape"
    assert converted.warnings == () and converted.skipped == ()


def test_magic_looking_python_lines_are_left_alone(tmp_path):
    converted = convert_cells(
        """
        %matplotlib inline
        MESSAGE = ("value: %d"
                   % 3)
        SAME = (1
                != 2)
        """,
        "\n".join(["!echo hello"] * 2000 + ["def f():\n    return MESSAGE, SAME"]))
    assert load(converted, tmp_path).f() == ("value: 3", True)


def test_columns_are_counted_in_characters(tmp_path):
    module = load(convert_cells(
        'print("héllo, ça va"); ÉCHELLE = 2.0; print(ÉCHELLE)\n'
        'def f(x):\n    return ÉCHELLE * x'), tmp_path)
    assert module.f(2) == 4.0


@pytest.mark.parametrize("cell, message", [
    ("def f():\n    return 1\x00", "source code"),
    ("X = " + "(" * 300 + ")" * 300, "too many nested parentheses"),
    ("def f():\nreturn 1", "expected an indented block after function definition on line 1"),
    ("print 'hello'\ndef f():\n    pass", "Missing parentheses in call to 'print'"),
])
def test_cells_that_cannot_be_read_are_skipped(tmp_path, cell, message):
    converted = convert_cells(cell, "def g():\n    return 2")
    assert [s.cell for s in converted.skipped] == [1] and message in converted.skipped[0].message
    assert load(converted, tmp_path).g() == 2


def test_time_cells_are_read_other_cell_magics_ignored(tmp_path):
    converted = convert_cells(
        """
        %%time
        def f():
            return 1
        f()
        """,
        """
        %%writefile helpers.py
        def helper():
            return 2
        """,
        """
        %%bash
        ls -l
        """,
        "%run utilities.ipynb")
    assert public(load(converted, tmp_path)) == ["f"]
    assert converted.warnings == (
        "rnn.ipynb, cell 2: a %%writefile cell is not Python and is not run when grading, so "
        "helper is not defined.",
        "rnn.ipynb, cell 4, line 1: `%run utilities.ipynb` is not run when grading: put the code "
        "your functions need in this notebook.")


def test_the_later_definition_counts(tmp_path):
    converted = convert_cells(
        "def f(x):\n    return x  # first attempt",
        "print(f(1))",
        "def f(x):\n    return 2 * x",
        "def g():\n    return f(5)")
    module = load(converted, tmp_path)
    assert module.f(1) == 2 and module.g() == 10
    assert converted.definitions == {1: ("f",), 3: ("f",), 4: ("g",)}


def test_a_long_sum_of_constants_is_a_constant(tmp_path):
    """`1 + 1 + ... + 1` nests as deep as it is long: the reader walks it without recursion."""
    converted = convert_cells("TOTAL = " + " + ".join(["1"] * 800),
                              "def f():\n    return TOTAL")
    assert load(converted, tmp_path).f() == 800 and converted.warnings == ()


def test_a_placeholder_left_in_a_function_is_just_a_wrong_answer(tmp_path):
    converted = convert_cells(
        """
        import numpy as np

        def hidden_jacobian(W_hh, W_ih, b_h, h_prev, x):
            np.random.seed(1)
            ### START CODE HERE ###
            A = None  # YOUR CODE HERE
            ### END CODE HERE ###
            return A

        def init(n):
            np.random.seed(1)
            return np.random.randn(n)
        """)
    module = load(converted, tmp_path)
    assert module.hidden_jacobian(1, 2, 3, 4, 5) is None
    assert np.array_equal(module.init(3), np.random.RandomState(1).randn(3))
    assert converted.warnings == () and converted.skipped == ()


def test_a_future_import_applies_to_later_cells(tmp_path):
    module = load(convert_cells(
        "from __future__ import annotations",
        "def f(x: torch.Tensor) -> torch.Tensor:\n    return x"), tmp_path)
    assert module.f(3) == 3 and module.f.__annotations__ == {"x": "torch.Tensor",
                                                              "return": "torch.Tensor"}


# ---- failures and warnings ----------------------------------------------------------------------

def test_a_failed_import_warns_and_fails_only_where_used(tmp_path, capsys):
    module = load(convert_cells(
        "import numpy as np\nimport matplotlib_is_not_installed.pyplot as plt",
        "def plot(x):\n    plt.plot(x)\n    return x",
        "def f(x):\n    return np.sum(x)",
        "class Net(plt.Module):\n    pass"), tmp_path)
    assert module.f(np.ones(2)) == 2
    failure = ("rnn.ipynb, cell 1, line 2: `import matplotlib_is_not_installed.pyplot as plt` "
               "failed when grading (ModuleNotFoundError: No module named "
               "'matplotlib_is_not_installed').")
    with pytest.raises(ModuleNotFoundError) as raised:
        module.plot([1])
    assert str(raised.value) == f"plt is not available when grading: {failure}"
    with pytest.raises(ModuleNotFoundError, match="^Net is not available when grading: "
                       r"rnn.ipynb, cell 4, line 1: `class Net\(plt.Module\): ...` failed"):
        module.Net()
    assert capsys.readouterr().err == (
        f"warning: {failure}\n"
        "warning: rnn.ipynb, cell 4, line 1: `class Net(plt.Module): ...` failed when grading "
        f"(ModuleNotFoundError: plt is not available when grading: {failure}).\n")


def test_a_name_left_unset_fails_clearly_in_numpy_s_functions_too(tmp_path):
    module = load(convert_cells("import numpy as np\nEPS = np.finfo(float).eps",
                                "def f(p):\n    return np.clip(p, EPS, 1.0)\n\n"
                                "def g(p):\n    return np.concatenate([p, EPS])"), tmp_path)
    for function in (module.f, module.g):
        with pytest.raises(NameError, match="^EPS is not defined when grading: it is set by "
                                            "top-level code"):
            function(np.array([0.5]))


def test_a_failed_definition_keeps_the_earlier_one(tmp_path, capsys):
    module = load(convert_cells(
        "def f():\n    return 'first'",
        "@undefined_decorator\ndef f():\n    return 'second'"), tmp_path)
    assert module.f() == "first"
    assert "cell 2, line 1: `@undefined_decorator ...` failed" in capsys.readouterr().err


def test_dropped_code_that_matters_is_reported_once(tmp_path):
    converted = convert_cells(
        """
        import numpy as np
        SCALE = np.sqrt(2.0)
        X_test = np.ones(3)
        print(X_test)
        """,
        """
        for epoch in range(10**9):
            loss = epoch * 2

            def helper(x):
                return x
        with np.errstate(all="ignore"):
            def other():
                pass
        """,
        """
        def f(x):
            return SCALE * x

        def g(x):
            return helper(x)
        """)
    assert converted.warnings == (
        "rnn.ipynb, cell 1, line 2: `SCALE = np.sqrt(2.0)` is not run when grading (only imports, "
        "definitions and simple constants run), so SCALE, which your code uses, is not set by it.",
        "rnn.ipynb, cell 2, line 1: `for epoch in range(10**9): ...` is not run when grading "
        "(only imports, definitions and simple constants run), so helper, defined in it, is not "
        "defined.",
        "rnn.ipynb, cell 2, line 6: `with np.errstate(all=\"ignore\"): ...` is not run when "
        "grading (only imports, definitions and simple constants run), so other, defined in it, "
        "is not defined.")
    module = load(converted, tmp_path)
    with pytest.raises(NameError) as raised:
        module.f(1.0)
    assert str(raised.value) == (
        "SCALE is not defined when grading: it is set by top-level code, which the grader does "
        "not run (rnn.ipynb, cell 1, line 2: `SCALE = np.sqrt(2.0)`). Define it inside your "
        "function, or as a simple constant (a literal value).")
    with pytest.raises(NameError) as raised:
        module.g(1.0)
    assert str(raised.value) == (
        "helper is not defined when grading: it is defined inside top-level code, which the "
        "grader does not run (rnn.ipynb, cell 2, line 1: `for epoch in range(10**9): ...`). "
        "Define it at the top level of a cell.")
    assert "X_test" not in vars(module) and "loss" not in vars(module)


def test_a_name_from_a_star_import_that_is_missing(tmp_path, capsys):
    module = load(convert_cells(
        "try:\n    from rnn_utils import *\nexcept ImportError:\n    pass",
        "from testCases import *",
        "def f(x):\n    return rnn_cell_forward(x)"), tmp_path)
    with pytest.raises(NameError) as raised:
        module.f(1)
    assert str(raised.value) == (
        "name 'rnn_cell_forward' is not defined when grading: nothing in rnn.ipynb defines it, "
        "and it does not come from `from rnn_utils import *` (rnn.ipynb, cell 1, line 2) or "
        "`from testCases import *` (rnn.ipynb, cell 2, line 1).")
    assert capsys.readouterr().err == (
        "warning: rnn.ipynb, cell 2, line 1: `from testCases import *` failed when grading "
        "(ModuleNotFoundError: No module named 'testCases').\n")


# ---- errors point to the notebook ---------------------------------------------------------------

RNN_CELLS = (
    "# RNN\nImplement the functions below.",
    "import numpy as np",
    "# Jacobian",
    """
    def hidden_jacobian(W_hh, h):
        d = 1.0 - h ** 2
        return np.diag(d) @ W_hh @ np.ones(7)
    """,
    """
    def cross_entropy(y, p):
        return float(-np.sum(y * np.log(p))

    def jacobian_norm_bound(W_hh, i, t):
        return float(np.linalg.norm(W_hh, 2) ** (t - i))
    """,
    """
    def guaranteed_to_vanish(W_rec, gamma):
        return bool(np.linalg.norm(W_rec, 2) * gamma < 1)
    """,
)


def test_a_traceback_names_the_cell_and_line(tmp_path):
    module = load(convert(notebook(*RNN_CELLS), "rnn.ipynb"), tmp_path)
    with pytest.raises(ValueError) as raised:
        module.hidden_jacobian(np.eye(2), np.zeros(2))
    frame = traceback.extract_tb(raised.value.__traceback__)[-1]
    assert (frame.filename, frame.lineno, frame.name) == \
        (str(tmp_path / "rnn.ipynb, cell 2"), 3, "hidden_jacobian")
    assert frame.line == "return np.diag(d) @ W_hh @ np.ones(7)"
    # the sandbox child keeps these frames, and only these, as the student's
    assert _student_frames(raised.value.__traceback__, str(tmp_path)) == (
        "  rnn.ipynb, cell 2, line 3, in hidden_jacobian\n"
        "    return np.diag(d) @ W_hh @ np.ones(7)")
    assert "def hidden_jacobian(W_hh, h):" in inspect.getsource(module.hidden_jacobian)


def test_a_cell_that_does_not_parse_fails_only_its_functions(tmp_path):
    converted = convert(notebook(*RNN_CELLS), "rnn.ipynb")
    assert converted.skipped == (SkippedCode(
        cell=3, line=2, message="'(' was never closed",
        text="    return float(-np.sum(y * np.log(p))",
        functions=("cross_entropy", "jacobian_norm_bound")),)
    assert converted.warnings == (
        "rnn.ipynb, cell 3, line 2: syntax error ('(' was never closed): the cell is not run, so "
        "cross_entropy and jacobian_norm_bound fail with this error. The other cells are graded.",)
    module = load(converted, tmp_path)
    assert module.guaranteed_to_vanish(0.5 * np.eye(2), 1.0) is True
    for function in (module.cross_entropy, module.jacobian_norm_bound):
        with pytest.raises(SyntaxError) as raised:
            function(np.eye(2), 0, 1)
        assert str(raised.value) == "'(' was never closed (rnn.ipynb, cell 3, line 2)"
        assert _describe(raised.value, str(tmp_path), "call", "rnn.py") == {
            "kind": "syntax", "file": "rnn.ipynb, cell 3", "line": 2,
            "message": "'(' was never closed", "text": "    return float(-np.sum(y * np.log(p))"}


def test_a_broken_cell_counts_in_notebook_order(tmp_path):
    module = load(convert_cells(
        "def f():\n    return 'first'",
        "def f():\n    return (",
        "def g():\n    return 'g'",
        "def g(:\n    pass",
        "def g():\n    return 'fixed'"), tmp_path)
    with pytest.raises(SyntaxError):
        module.f()
    assert module.g() == "fixed"


def test_what_only_the_compiler_refuses_fails_only_that_definition(tmp_path):
    converted = convert_cells(
        "def f(x, x):\n    return x\n\ndef g():\n    return 1")
    assert converted.skipped == (SkippedCode(
        cell=1, line=1, message="duplicate argument 'x' in function definition",
        text="def f(x, x):", functions=("f",)),)
    module = load(converted, tmp_path)
    assert module.g() == 1
    with pytest.raises(SyntaxError, match="duplicate argument"):
        module.f(1, 2)


def test_cells_are_numbered_by_code_cells_not_execution_counts(tmp_path):
    nb = notebook("# a title", "import numpy as np", "# text", "def f():\n    return 1 / 0")
    for cell, count in zip(nb.cells, [None, 41, None, 3]):
        if cell.cell_type == "code":
            cell.execution_count = count
    nb.cells.insert(1, nbformat.v4.new_raw_cell("raw text"))
    module = load(convert(nb, "rnn.ipynb"), tmp_path)
    with pytest.raises(ZeroDivisionError) as raised:
        module.f()
    assert traceback.extract_tb(raised.value.__traceback__)[-1].filename.endswith(
        "rnn.ipynb, cell 2")


# ---- through the sandbox ------------------------------------------------------------------------

def test_a_notebook_module_in_the_sandbox(sandbox, tmp_path):
    converted = convert_cells(
        "%matplotlib inline\nimport numpy as np\nimport matplotlib_is_not_installed as plt",
        "def f(x):\n    y = np.asarray(x)\n    return y.sum() + np.zeros(2)[5]",
        "for epoch in range(10**9):\n    f(epoch)",
        "def g(x):\n    return (",
        "def h(x):\n    return 2 * x")
    (tmp_path / converted.module_file).write_text(converted.source, encoding="utf-8")
    calls = [Call(i, "rnn.py", name, {"x": 1.0}, 2.0, name) for i, name in enumerate("fgh")]
    start = time.monotonic()
    f, g, h = sandbox.run([tmp_path / "rnn.py"], calls, SandboxLimits(submission_time=10))
    assert time.monotonic() - start < 5
    assert isinstance(f.error, errors.CallRaised) and str(f.error) == (
        "f raised IndexError: index 5 is out of bounds for axis 0 with size 2\n"
        "  rnn.ipynb, cell 2, line 3, in f\n"
        "    return y.sum() + np.zeros(2)[5]")
    assert f.output == ("warning: rnn.ipynb, cell 1, line 3: `import matplotlib_is_not_installed "
                        "as plt` failed when grading (ModuleNotFoundError: No module named "
                        "'matplotlib_is_not_installed').\n")
    assert isinstance(g.error, errors.SyntaxErrorInSubmission)
    assert str(g.error).startswith("rnn.ipynb, cell 4, line 2: syntax error: "
                                   "'(' was never closed\n    return (\n")
    assert str(g.error).endswith("Python cannot run this cell, so the functions it defines did "
                                 "not run (the other cells were graded).")
    assert h.error is None and h.value == 2.0


def test_a_notebook_call_out_of_time_says_in_which_cell_and_line_it_was_stopped(sandbox,
                                                                                tmp_path):
    converted = convert_cells("import numpy as np",
                              "def spin(x):\n    while x:\n        x = x + 0\n",
                              "def f(x):\n    return spin(x)")
    (tmp_path / converted.module_file).write_text(converted.source, encoding="utf-8")
    (outcome,) = sandbox.run([tmp_path / "rnn.py"], [Call(0, "rnn.py", "f", {"x": 1}, 0.5, "f")],
                             SandboxLimits(submission_time=10), sources=converted.cells)
    assert isinstance(outcome.error, errors.Timeout)
    lines = str(outcome.error).splitlines()
    assert lines[1:4] == ["It was stopped here:", "  rnn.ipynb, cell 3, line 2, in f",
                          "    return spin(x)"]
    assert lines[4:] in (["  rnn.ipynb, cell 2, line 2, in spin", "    while x:"],
                         ["  rnn.ipynb, cell 2, line 3, in spin", "    x = x + 0"])


def test_the_cells_code_is_kept_by_the_name_it_runs_under():
    converted = convert_cells("import numpy as np", "# a title", "def f(x):\n    return x")
    assert converted.cells == {"rnn.ipynb, cell 1": "import numpy as np",
                               "rnn.ipynb, cell 2": "def f(x):\n    return x"}


def test_a_submission_s_notebook_cells_come_with_its_files(tmp_path):
    from grader.course.manifest import load_course
    from grader.submission.collect import submission_files
    from conftest import PROBLEMS, REFERENCE
    nbformat.write(notebook("import numpy as np", "def cross_entropy(y, p):\n    return 0.0"),
                   tmp_path / "rnn.ipynb")
    (tmp_path / "optim.py").write_text("def gd_quadratic():\n    pass\n")
    cells: dict = {}
    files = submission_files(load_course(PROBLEMS, REFERENCE), [tmp_path], cells=cells)
    assert "rnn.py" in files and "optim.py" in files
    assert cells == {"rnn.ipynb, cell 1": "import numpy as np",
                     "rnn.ipynb, cell 2": "def cross_entropy(y, p):\n    return 0.0"}


def test_a_file_that_is_not_a_notebook_fails_with_the_sentence_alone(sandbox, tmp_path):
    from grader.course.manifest import load_course
    from grader.submission.collect import submission_files
    from conftest import PROBLEMS, REFERENCE
    (tmp_path / "optim.ipynb").write_text("def gd_quadratic(A, w0, lr, steps):\n    pass\n")
    files = submission_files(load_course(PROBLEMS, REFERENCE), [tmp_path])
    (outcome,) = sandbox.run(files, [Call(0, "optim.py", "gd_quadratic", {}, 2.0, "p")])
    assert isinstance(outcome.error, errors.ImportFailed)
    assert str(outcome.error) == (
        "optim.ipynb is not a Jupyter notebook: its content is not a notebook's (JSON) format. "
        "Open it in Jupyter (or Colab), save it, and submit the .ipynb file again.")


# ---- the example notebook students --------------------------------------------------------------

def example(student: str) -> Path:
    """An example notebook student's folder."""
    return EXAMPLES / student


def module_functions(module):
    return {n: f for n, f in vars(module).items() if inspect.isfunction(f)
            and not n.startswith("__")}


@pytest.mark.parametrize("assignment", ["rnn", "optim", "layers"])
def test_the_correct_notebook_holds_exactly_the_correct_answers(tmp_path, assignment):
    converted = to_module(example("notebook_correct") / f"{assignment}.ipynb")
    assert converted.skipped == ()
    (tmp_path / "nb").mkdir()
    ours = module_functions(load(converted, tmp_path / "nb"))
    spec = importlib.util.spec_from_file_location(
        f"correct_{assignment}", EXAMPLES / "correct" / f"{assignment}.py")
    correct = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(correct)
    theirs = module_functions(correct)
    assert sorted(ours) == sorted(theirs)
    for name, function in theirs.items():
        assert inspect.getsource(ours[name]) == inspect.getsource(function), name


def test_the_broken_notebook_loses_only_its_broken_cell(tmp_path):
    converted = to_module(example("notebook_broken") / "rnn.ipynb")
    assert [(s.functions, s.message) for s in converted.skipped] == \
        [(("hidden_jacobian",), "'(' was never closed")]
    module = load(converted, tmp_path)
    assert module.jacobian_norm_bound(np.eye(2), 0, 3) is None
    with pytest.raises(SyntaxError):
        module.hidden_jacobian(np.eye(2), np.eye(2), np.zeros(2), np.zeros(2), np.zeros(2))


def test_the_reader_s_warnings_are_notes_of_the_submission_not_its_output(sandbox, tmp_path):
    """What the reader left out of a notebook is said once, as a note on the submission, not
    printed as if the student's code had printed it."""
    from grader.course.manifest import load_course
    from grader.submission.collect import submission_files
    from conftest import PROBLEMS, REFERENCE
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nscale = np.sqrt(2.0)\ndef cross_entropy(y, p):\n"
        "    return float(-np.sum(y * np.log(p))) * scale\n")])
    (tmp_path / "rnn.ipynb").write_text(nbformat.writes(notebook))
    notes = []
    files = submission_files(load_course(PROBLEMS, REFERENCE), [tmp_path], notes=notes)
    assert len(notes) == 1 and notes[0].startswith(
        "rnn.ipynb, cell 1, line 2: `scale = np.sqrt(2.0)` is not run when grading")
    (outcome,) = sandbox.run(files, [Call(0, "rnn.py", "cross_entropy",
                                          {"y": [1.0], "p": [0.5]}, 2.0, "p")])
    assert "not defined" in str(outcome.error) and outcome.output == ""


def test_a_notebook_with_much_code_is_graded_not_said_missing(tmp_path):
    """The module a notebook becomes is about three times its code: with 600 KB of code it is
    larger than a student's .py file may be, and is still sent whole."""
    from grader.course.manifest import load_course
    from grader.engine import grade_submission, start_sandbox
    course = load_course(ROOT / "problems", ROOT / "reference")
    source = (EXAMPLES / "correct" / "rnn.py").read_text()
    filler = "\n".join(f"def unused_{i}(x):\n    return x + {i}  # padding" for i in range(12_000))
    folder = tmp_path / "nb"
    folder.mkdir()
    nbformat.write(notebook(source, filler), folder / "rnn.ipynb")
    with start_sandbox() as sandbox:
        result = grade_submission(course=course, submission=folder, sandbox=sandbox,
                                  problems=["rnn.cross_entropy"])
    (problem,) = result.problems
    assert problem.passed, problem.feedback()
