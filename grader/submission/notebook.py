"""Jupyter notebooks as student files. A student may hand in `rnn.ipynb` where `rnn.py` is
expected: the grader reads it with nbformat, in its own (trusted) process, and writes the text of
a Python module that the sandbox imports like any student file. What runs is what defines the
graded functions, never the notebook's top-level work: of each code cell's top-level statements,
only imports, function and class definitions and simple constants are kept (see `to_module`);
magics and shell escapes are dropped; training loops, test calls, prints and plots never run.
The code of the N-th code cell (counted from 1 from the top, markdown cells not counted; not
Jupyter's execution count) is compiled under the name "<notebook>, cell N" next to the module,
so tracebacks and syntax errors read "rnn.ipynb, cell 12, line 3"; a cell that does not parse
fails only the functions it defines.
"""
from __future__ import annotations

import __future__
import ast
import bisect
import builtins
import math
import re
import symtable
import textwrap
from dataclasses import dataclass, field
from json.decoder import scanstring
from pathlib import Path

NOTEBOOK_SUFFIX = ".ipynb"

# Cell magics whose body is Python that IPython runs in the notebook's namespace: the body is read
# as an ordinary cell. Any other cell magic (%%bash, %%writefile, %%html, ...) is not Python and
# its cell is ignored.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})

# Line magics that bring in code the grader never sees: reported when dropped.
CODE_MAGICS = frozenset({"run", "load"})

# A line IPython reads as a magic, a shell escape, a help request or an assignment from one.
# Each alternative starts with a character that is not a space, so that the time it takes grows
# with the line's length, not with its square (the grader reads notebooks in its own process).
_IPYTHON_LINE = re.compile(r"\s*(?:[%!?]|[\w.]+\s*\?\??\s*$|[\w.,][\w.,\s]*=\s*[%!])")
_CELL_MAGIC = re.compile(r"%%(\w+)")
_MAX_FIXES = 100  # IPython lines fixed one at a time in a cell, at most
_FIX_BUDGET = 1 << 21  # characters parsed again while fixing them, at most, in one notebook
MAX_CODE = 1 << 20  # characters of code (in all code cells) a notebook may hold
# JSON values (outside strings: cells, lines, outputs, metadata) a notebook may hold, counted as
# the "[", "{", "," and ":" that start them. Reading a value costs the grader up to half a
# kilobyte (nbformat makes a node of every mapping), so this bounds the memory a notebook takes
# to read at about 60 MB, whatever its file size; the example notebooks count 600-1,300, a
# notebook of 20,000 lines of code and outputs about 40,000.
MAX_VALUES = 200_000
_LINE_MAGIC = re.compile(r"\s*%(\w+)")
# How a cell that does not parse is searched for what it would have defined.
_DEFINITION = re.compile(r"^(?:async[ \t]+)?(?:def|class)[ \t]+([^\W\d]\w*)", re.MULTILINE)

_MODULE_NAMES = frozenset({"__name__", "__file__", "__doc__", "__spec__", "__loader__",
                           "__package__", "__builtins__", "__annotations__"})
_BUILTINS = frozenset(dir(builtins)) - {"__name__", "__doc__", "__spec__", "__loader__",
                                        "__package__"}
_KEEP, _NEUTRAL, _DROP = "keep", "neutral", "drop"
_COMPOUND = (ast.If, ast.Try) + ((ast.TryStar,) if hasattr(ast, "TryStar") else ())
_RULE = "only imports, definitions and simple constants run"


class NotebookError(ValueError):
    """The file is not a notebook the grader can read; `str()` is a sentence for the student."""


@dataclass(frozen=True)
class SkippedCode:
    """Code that does not compile: a whole cell that does not parse, or one top-level definition
    the compiler refuses. Its `functions` are replaced by stubs raising its syntax error."""
    cell: int
    line: int
    message: str
    text: str
    functions: tuple[str, ...]


@dataclass(frozen=True)
class ConvertedNotebook:
    """A notebook as the module the sandbox imports.

    `source` is the module's text (to be written as `module_file` in the scratch directory);
    `warnings` are sentences for the student, in notebook order, about top-level code that is not
    run although a function may need it, and about code that does not compile; `skipped` is that
    code; `definitions` maps each code cell's number to the functions and classes it defines;
    `cells`, the source of each cell the module runs code of, by the name its code is compiled
    under (see `cell_filename`), for the lines of a traceback the grader writes itself.
    """
    name: str
    source: str
    warnings: tuple[str, ...]
    skipped: tuple[SkippedCode, ...]
    definitions: dict[int, tuple[str, ...]] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)

    @property
    def module_file(self) -> str:
        """The student file this notebook stands for: `rnn.ipynb` -> `rnn.py`."""
        return Path(self.name).stem + ".py"


def cell_filename(notebook: str, cell: int) -> str:
    """The file name code of code cell `cell` is compiled under (joined to the module's
    directory), which is what a traceback or a syntax error shows: "rnn.ipynb, cell 12"."""
    return f"{notebook}, cell {cell}"


def to_module(path: Path) -> ConvertedNotebook:
    """Read the notebook at `path` and turn it into the module the sandbox imports.

    Code cells are read in notebook order, numbered from 1 (markdown and raw cells are not
    counted); outputs and execution counts are ignored. Of each cell's top-level statements,
    these run, in order:
    - imports (`from __future__` ones apply to every later cell);
    - function and class definitions, as written (decorators, default values and class bodies
      included); a name defined twice ends with the later definition;
    - simple constants: `NAME = value`, `a, b = value`, `NAME: T = value` and `NAME += value`, where
      the value uses only literals, names already defined by kept code (or built in), attribute
      access, indexing, tuple/list/set/dict displays, operators and `lambda`, and never a call;
    - `if` and `try` statements whose tests are such values, with whatever inside is not kept
      replaced by `pass` (so `try: from testCases import * / except ImportError: print(...)`
      keeps the import).
    Everything else (calls, loops, `with`, prints, plots, training, assertions) is dropped, as are
    magics and shell escapes; a `%%time`, `%%timeit`, `%%capture` or `%%prun` cell is read as its
    body, any other cell magic makes the cell ignored. A kept statement that fails when the module
    is imported (an import of a package that is not installed, say) prints a warning, and the
    names it would have bound raise an error explaining why if a function uses them. A dropped
    statement is reported once in `warnings` when it defines a function or class, or sets a name
    that kept code uses; such names raise, when used, an error naming that statement.

    A cell that does not parse is not run: each function or class it would have defined (found
    as `def name` or `class name` at the start of a line) raises its syntax error, "rnn.ipynb,
    cell 12, line 3", where it stands in notebook order; so does a single definition that only
    the compiler refuses (a duplicate argument name, say). The other cells are graded.
    """
    return from_bytes(path.read_bytes(), path.name)


def from_bytes(data: bytes, name: str) -> ConvertedNotebook:
    """`to_module` for a notebook already read (as the grader reads a student's files: without
    following links, size bounded); `name` is its file name, as shown to the student."""
    return convert(read_notebook(data, name), name)


def read_notebook(data: bytes, name: str):
    """The notebook `data` (the bytes of the file `name`) as an nbformat v4 `NotebookNode`: any
    earlier format is converted, and the notebook need not validate against the schema. Raises
    `NotebookError` for a file that is not a notebook."""
    import nbformat  # here: a heavy import that only notebook submissions need

    again = "Open it in Jupyter (or Colab), save it, and submit the .ipynb file again."
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotebookError(f"{name} is not a Jupyter notebook: it is not text. {again}") from None
    if not text.strip():
        raise NotebookError(f"{name} is empty, not a Jupyter notebook. {again}")
    if _json_values(text) > MAX_VALUES:
        raise NotebookError(f"{name} holds more than {MAX_VALUES:,} values (cells, lines of "
                            "code and of outputs), more than the grader reads: clear its outputs "
                            "in Jupyter (Edit > Clear Outputs of All Cells) or Colab (Edit > "
                            "Clear all outputs), save it, and submit it again.")
    try:
        notebook = nbformat.convert(nbformat.reader.reads(text), 4)
    except nbformat.reader.NotJSONError:
        raise NotebookError(f"{name} is not a Jupyter notebook: its content is not a notebook's "
                            f"(JSON) format. {again}") from None
    except Exception as error:  # whatever a damaged file makes nbformat raise (RecursionError)
        reason = (str(error).strip().split("\n")[0] or type(error).__name__)[:200]
        raise NotebookError(f"{name} is not a Jupyter notebook the grader can read ({reason}). "
                            f"{again}") from None
    cells = notebook.get("cells")
    if not isinstance(cells, list) or not all(
            isinstance(c, dict) and isinstance(c.get("source", ""), str) for c in cells):
        raise NotebookError(f"{name} is not a Jupyter notebook the grader can read (its cells "
                            f"are damaged). {again}")
    code = sum(len(c.get("source", "")) for c in cells if c.get("cell_type") == "code")
    if code > MAX_CODE:
        raise NotebookError(f"{name} holds {code / (1 << 20):.1f} MB of code in its cells, more "
                            f"than the {MAX_CODE >> 20} MB the grader reads: load data from a file "
                            "instead of pasting it into a cell, and submit the notebook again.")
    language = _entry(notebook, "metadata", "kernelspec", "language") \
        or _entry(notebook, "metadata", "language_info", "name") or "python"
    if not str(language).lower().startswith("python"):
        raise NotebookError(f"{name} is a {language} notebook: the grader needs a Python one.")
    return notebook


def _json_values(text: str) -> int:
    """How many values the JSON document `text` holds at most, not counting what its strings
    hold: each value but the first follows a "[", "{", "," or ":" outside a string. Strings are
    skipped with the json module's own scanner, in time linear in the text; the count stops
    once it is over MAX_VALUES (a string that does not end is left for the JSON reader to
    refuse)."""
    count = sum(text.count(mark) for mark in "[{,:")
    if count <= MAX_VALUES:  # the marks inside strings included: already small enough
        return count
    count, position = 0, 0
    while count <= MAX_VALUES:
        quote = text.find('"', position)
        end = len(text) if quote < 0 else quote
        count += sum(text.count(mark, position, end) for mark in "[{,:")
        if quote < 0:
            break
        try:
            position = scanstring(text, quote + 1)[1]
        except ValueError:
            break
    return count


def _entry(node, *keys):
    """node[key1][key2]..., or None where a level is missing or not a mapping."""
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def convert(notebook, name: str) -> ConvertedNotebook:
    """`notebook` (an nbformat v4 `NotebookNode`, as `read_notebook` returns, or one built with
    `nbformat.v4`) as the module the sandbox imports; `name` is the notebook's file name."""
    planner = _Planner(name)
    number = 0
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            number += 1
            planner.add_cell(number, cell.get("source", ""))
    return planner.finish()


# ---- one cell: IPython syntax, parsing ----------------------------------------------------------

@dataclass
class _Parsed:
    source: str                    # the cell's text, with "\n" line ends
    lines: list[str]               # the cell as Python: magics replaced by `pass` or blank
    tree: ast.Module | None        # None when the cell does not parse
    error: SyntaxError | None
    magics: list[tuple[int, str]]  # (line, text) of each dropped magic or shell escape
    ignored: str = ""              # the cell magic that makes the whole cell ignored, if any


def _parse(lines: list[str]) -> ast.Module:
    return compile("\n".join(lines), "<cell>", "exec",
                   ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)


def _string_lines(tree: ast.AST) -> list[tuple[int, int]]:
    """The lines inside a string of `tree` (all but the first line of each), as sorted,
    disjoint (first, last) ranges: merged, since the pieces of an f-string each span all of
    it on Python 3.11 and older (a set of their lines would take pieces x lines)."""
    spans = sorted((node.lineno + 1, node.end_lineno) for node in ast.walk(tree)
                   if isinstance(node, (ast.Constant, ast.JoinedStr))
                   and node.end_lineno > node.lineno)
    merged: list[tuple[int, int]] = []
    for first, last in spans:
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def _among(line: int, ranges: list[tuple[int, int]]) -> bool:
    """Whether `line` lies in one of the sorted, disjoint `ranges`."""
    at = bisect.bisect_right(ranges, (line, math.inf)) - 1
    return at >= 0 and ranges[at][0] <= line <= ranges[at][1]


def _as_pass(line: str) -> str:
    return line[:len(line) - len(line.lstrip())] + "pass"


def _parse_cell(source: str, budget: list[int]) -> _Parsed:
    """The cell as Python. IPython lines (magics, shell escapes, help requests) become `pass`:
    all at once when that parses (lines inside a multi-line string are left as they are), else
    one at a time where the parser stops, a bounded number of times: while the notebook's
    `budget[0]` (characters it may still parse again, shared by its cells) lasts."""
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return _Parsed(text, lines, ast.Module(body=[], type_ignores=[]), None, [])
    if lines[first][:1].isspace():  # IPython runs a cell indented as a whole
        lines = textwrap.dedent(text).split("\n")
    magic = _CELL_MAGIC.match(lines[first])
    if magic and magic.group(1) not in PYTHON_CELL_MAGICS:
        return _Parsed(text, lines, None, None, [(first + 1, lines[first])], magic.group(1))
    magics = []
    if magic:
        magics.append((first + 1, lines[first]))
        lines[first] = ""
    try:
        return _Parsed(text, lines, _parse(lines), None, magics)
    except SyntaxError as error:
        first_error = error
    except (ValueError, RecursionError, MemoryError) as error:  # null bytes, absurd nesting
        unreadable = SyntaxError(str(error) or type(error).__name__, ("<cell>", 1, 1, ""))
        return _Parsed(text, lines, None, unreadable, magics)
    candidates = [i for i, line in enumerate(lines) if _IPYTHON_LINE.match(line)]
    trial = [_as_pass(line) if i in candidates else line for i, line in enumerate(lines)]
    try:
        tree = _parse(trial)
        inside = _string_lines(tree)
        kept = [i for i in candidates if not _among(i + 1, inside)]
        trial = [_as_pass(line) if i in kept else line for i, line in enumerate(lines)]
        tree = _parse(trial)
        magics += [(i + 1, lines[i]) for i in kept]
        return _Parsed(text, trial, tree, None, sorted(magics))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    replaced: set[int] = set()
    error = first_error
    for _ in range(min(len(lines), _MAX_FIXES)):
        if budget[0] < len(text):  # another parse would go over the notebook's budget
            break
        at = error.lineno or 0
        if not 1 <= at <= len(lines) or (at in replaced and not lines[at - 1].strip()):
            break
        if at in replaced:  # `pass` is out of place there: leave a blank line
            lines[at - 1] = ""
        elif _IPYTHON_LINE.match(lines[at - 1]):
            replaced.add(at)
            magics.append((at, lines[at - 1]))
            lines[at - 1] = _as_pass(lines[at - 1])
        else:
            break
        budget[0] -= len(text)
        try:
            return _Parsed(text, lines, _parse(lines), None, magics)
        except SyntaxError as again:
            error = again
        except (ValueError, RecursionError, MemoryError):
            break
    return _Parsed(text, lines, None, error, magics)


# ---- what a statement binds, reads and looks like -----------------------------------------------

def _bindings(node: ast.AST) -> tuple[set[str], list[str]]:
    """Names a statement binds at the top level, and those of them that are functions or classes
    (defined, or assigned a lambda), in source order. Nested function, class and comprehension
    bodies are not looked into."""
    names, definitions = set(), []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(current.name)
            definitions.append((current.lineno, current.name))
            if current is node:
                stack.extend(current.decorator_list)
            continue
        if isinstance(current, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp,
                                ast.GeneratorExp)):
            continue
        if isinstance(current, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name.split(".")[0]) for a in current.names
                         if a.name != "*")
        elif isinstance(current, ast.Name) and isinstance(current.ctx, ast.Store):
            names.add(current.id)
        elif isinstance(current, ast.ExceptHandler) and current.name:
            names.add(current.name)
        elif isinstance(current, (ast.MatchAs, ast.MatchStar)) and current.name:
            names.add(current.name)
        elif isinstance(current, ast.MatchMapping) and current.rest:
            names.add(current.rest)
        elif isinstance(current, (ast.Assign, ast.AnnAssign)) \
                and isinstance(current.value, ast.Lambda):
            targets = current.targets if isinstance(current, ast.Assign) else [current.target]
            definitions.extend((t.lineno, t.id) for t in targets if isinstance(t, ast.Name))
        stack.extend(ast.iter_child_nodes(current))
    return names, list(dict.fromkeys(name for _, name in sorted(definitions)))


def _globals_read(code: str) -> set[str]:
    """Names that `code` (kept top-level code) reads from the module's namespace, found with the
    compiler's own scope analysis."""
    try:
        top = symtable.symtable(code, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError):
        return set()
    found, tables = set(), [top]
    while tables:
        table = tables.pop()
        found.update(s.get_name() for s in table.get_symbols()
                     if s.is_referenced() and (table is top or s.is_global()))
        tables.extend(table.get_children())
    return found


def _star_imports(node: ast.AST) -> list[tuple[int, str]]:
    """The `from module import *` inside a statement: (line, text)."""
    return [(n.lineno, f"from {'.' * n.level}{n.module or ''} import *") for n in ast.walk(node)
            if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)]


def _char(line: str, offset: int) -> int:
    """The index in `line` of the UTF-8 byte offset `offset` (what ast reports)."""
    return len(line.encode("utf-8")[:offset].decode("utf-8", errors="ignore"))


def _first_line(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno] + [d.lineno for d in decorators])


def _summary(code: str) -> str:
    lines = code.strip().split("\n")
    first = lines[0].strip()
    if len(first) > 60:
        return first[:57] + "..."
    return first + (" ..." if len(lines) > 1 else "")


def _is(names) -> str:
    return "is" if len(names) == 1 else "are"


def _names(names) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


# ---- the notebook: which statements run --------------------------------------------------------

@dataclass
class _Entry:
    """One step of the generated module: run `code` (kind "run" or "future", `detail` its
    summary), or bind stubs raising a syntax error (kind "syntax": `code` is the error's message,
    `detail` its (offset, text)). `names` are the names it binds (or the features it enables)."""
    kind: str
    line: int
    code: str
    names: tuple[str, ...]
    detail: object

    def literal(self) -> tuple:
        return (self.kind, self.line, self.code, self.names, self.detail)


@dataclass
class _Dropped:
    cell: int
    line: int
    summary: str
    names: set[str]
    definitions: list[str]


class _Planner:
    """Reads the cells in order, decides what runs, then writes the module."""

    def __init__(self, name: str):
        self.name = name
        self.known = set(_BUILTINS | _MODULE_NAMES)  # names that simple constants may use
        self.learned: list[str] = []                  # names added to `known`, in order
        self.flags = 0                                # compiler flags of __future__ imports seen
        self.lines: list[str] = []                    # the cell being read, as Python
        self.cells: list[tuple[int, str, list[_Entry]]] = []
        self.kept_code: list[str] = []
        self.bound: set[str] = set()                  # names bound by kept code or stubs
        self.stars: list[str] = []                    # where star imports are
        self.dropped: list[_Dropped] = []
        self.skipped: list[SkippedCode] = []
        self.definitions: dict[int, tuple[str, ...]] = {}
        self.warnings: list[tuple[int, int, str]] = []
        self.fix_budget = [_FIX_BUDGET]               # see _parse_cell

    def where(self, cell: int, line: int | None = None) -> str:
        return f"{self.name}, cell {cell}" + (f", line {line}" if line else "")

    def warn(self, cell: int, line: int, text: str) -> None:
        self.warnings.append((cell, line, f"{self.where(cell, line or None)}: {text}"))

    # -- a cell

    def add_cell(self, number: int, source: str) -> None:
        parsed = _parse_cell(source, self.fix_budget)
        self.lines = parsed.lines
        entries: list[_Entry] = []
        for line, text in parsed.magics:
            magic = _LINE_MAGIC.match(text)
            if magic and magic.group(1) in CODE_MAGICS:
                self.warn(number, line, f"`{text.strip()}` is not run when grading: put the code "
                          "your functions need in this notebook.")
        if parsed.ignored:
            found = list(dict.fromkeys(_DEFINITION.findall(parsed.source)))
            if found:
                self.warn(number, 0, f"a %%{parsed.ignored} cell is not Python and is not run "
                          f"when grading, so {_names(found)} {_is(found)} not defined.")
        elif parsed.tree is None:
            error = parsed.error
            line = error.lineno if error.lineno and 1 <= error.lineno <= len(self.lines) else 1
            functions = tuple(dict.fromkeys(_DEFINITION.findall("\n".join(self.lines))))
            self.skip(number, line, error, functions, entries, whole_cell=True)
        else:
            defined: list[str] = []
            for node in parsed.tree.body:
                verdict, prunes = self.decide(node)
                if verdict == _KEEP:
                    defined += self.keep(number, node, prunes, entries)
                elif verdict == _DROP:
                    self.drop(number, node)
            if defined:
                self.definitions[number] = tuple(dict.fromkeys(defined))
        if entries:
            self.cells.append((number, parsed.source, entries))

    def skip(self, number: int, line: int, error: SyntaxError, functions: tuple[str, ...],
             entries: list[_Entry], *, whole_cell: bool) -> None:
        """Code that does not compile: its functions become stubs raising its syntax error."""
        message = error.msg or "invalid syntax"
        text = self.lines[line - 1].rstrip()
        self.skipped.append(SkippedCode(number, line, message, text, functions))
        self.bound.update(functions)
        if functions:
            entries.append(_Entry("syntax", line, message, functions, (error.offset, text)))
        fails = f", so {_names(functions)} {'fails' if len(functions) == 1 else 'fail'} with " \
            "this error" if functions else ""
        self.warn(number, line, f"syntax error ({message}): "
                  f"{'the cell' if whole_cell else 'this definition'} is not run{fails}. "
                  "The other cells are graded.")

    # -- a statement

    def decide(self, node: ast.stmt) -> tuple[str, list[ast.stmt]]:
        """KEEP (with the inner statements to replace by `pass`), NEUTRAL (nothing to run) or
        DROP. Names bound by what is kept become usable by later constants."""
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)) or self.constant(node):
            new = _bindings(node)[0] - self.known
            self.known |= new
            self.learned += new
            return _KEEP, []
        if isinstance(node, ast.Pass) or (isinstance(node, ast.Expr)
                                          and isinstance(node.value, ast.Constant)):
            return _NEUTRAL, []
        if isinstance(node, _COMPOUND):
            mark = len(self.learned)  # what a dropped `if` or `try` taught is forgotten
            verdict, prunes = self.compound(node)
            if verdict != _KEEP:
                self.known.difference_update(self.learned[mark:])
                del self.learned[mark:]
            return verdict, prunes
        return _DROP, []

    def constant(self, node: ast.stmt) -> bool:
        if isinstance(node, ast.Assign):
            return all(map(self.target, node.targets)) and self.simple(node.value)
        if isinstance(node, ast.AnnAssign):
            return isinstance(node.target, ast.Name) and self.simple(node.annotation) \
                and self.simple(node.value)
        if isinstance(node, ast.AugAssign):
            return isinstance(node.target, ast.Name) and node.target.id in self.known \
                and self.simple(node.value)
        return False

    def target(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Starred):
            return self.target(node.value)
        if isinstance(node, (ast.Tuple, ast.List)):
            return all(map(self.target, node.elts))
        return isinstance(node, ast.Name)

    def simple(self, node: ast.expr | None) -> bool:
        """A value computed without calling anything, from names already defined. Walked with
        a stack, not recursively: `1 + 1 + ... + 1` nests as deep as it is long."""
        pending = [node]
        while pending:
            node = pending.pop()
            if node is None or isinstance(node, ast.Constant):
                continue
            if isinstance(node, ast.Name):
                if node.id not in self.known:
                    return False
            elif isinstance(node, ast.Lambda):  # its body runs only when called
                pending += node.args.defaults + node.args.kw_defaults
            elif isinstance(node, (ast.Attribute, ast.Subscript, ast.Slice, ast.Starred,
                                   ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp,
                                   ast.BinOp, ast.BoolOp, ast.Compare, ast.IfExp)):
                pending += [child for child in ast.iter_child_nodes(node)
                            if isinstance(child, ast.expr)]
            else:
                return False
        return True

    def compound(self, node) -> tuple[str, list[ast.stmt]]:
        """An `if` or `try` is kept when something inside it is, the rest becoming `pass`."""
        if isinstance(node, ast.If):
            if not self.simple(node.test):
                return _DROP, []
            bodies = [node.body, node.orelse]
        else:
            if not all(self.simple(handler.type) for handler in node.handlers):
                return _DROP, []
            bodies = [node.body, *(h.body for h in node.handlers), node.orelse, node.finalbody]
        kept, prunes = False, []
        for body in bodies:
            for index, inner in enumerate(body):
                verdict, inner_prunes = self.decide(inner)
                if verdict == _KEEP:
                    kept = True
                    prunes += inner_prunes
                elif verdict == _DROP:
                    if not self.owns_lines(inner, body[index + 1:]):
                        return _DROP, []
                    prunes.append(inner)
        return (_KEEP if kept else _DROP), prunes

    def owns_lines(self, node: ast.stmt, following: list[ast.stmt]) -> bool:
        """Whether `node` alone occupies its lines (so they can become `pass` and blanks)."""
        first, last = self.lines[_first_line(node) - 1], self.lines[node.end_lineno - 1]
        if first[:_char(first, node.col_offset)].strip():
            return False
        rest = last[_char(last, node.end_col_offset):].strip().lstrip(";").strip()
        if rest and not rest.startswith("#"):
            return False
        return not following or _first_line(following[0]) > node.end_lineno

    # -- kept and dropped statements

    def code_of(self, node: ast.stmt, prunes: list[ast.stmt] = ()) -> tuple[int, str]:
        """The statement's text (its pruned statements replaced by `pass` and blank lines) and
        the line it starts on."""
        start = _first_line(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, *_COMPOUND)):
            chunk = self.lines[start - 1:node.end_lineno]  # whole lines: nothing else is on them
            for inner in prunes:
                top = _first_line(inner) - start
                chunk[top] = chunk[top][:len(chunk[top]) - len(chunk[top].lstrip())] + "pass"
                chunk[top + 1:inner.end_lineno - start + 1] = [""] * (inner.end_lineno
                                                                      - _first_line(inner))
            return start, "\n".join(chunk)
        first, last = self.lines[node.lineno - 1], self.lines[node.end_lineno - 1]
        begin, end = _char(first, node.col_offset), _char(last, node.end_col_offset)
        if node.lineno == node.end_lineno:
            return start, first[begin:end]
        return start, "\n".join([first[begin:], *self.lines[node.lineno:node.end_lineno - 1],
                                 last[:end]])

    def keep(self, number: int, node: ast.stmt, prunes: list[ast.stmt],
             entries: list[_Entry]) -> list[str]:
        """Add a kept statement; returns the functions and classes it defines."""
        start, code = self.code_of(node, prunes)
        for inner in prunes:
            self.drop(number, inner)
        names, definitions = _bindings(node)
        if prunes:  # what it binds once pruned
            names, definitions = set(), []
            for kept in _parse(code.split("\n")).body:
                kept_names, kept_definitions = _bindings(kept)
                names |= kept_names
                definitions += kept_definitions
        filename = cell_filename(self.name, number)
        try:  # at its own lines: moved there in the tree (not with start - 1 blank lines first)
            tree = compile(code, filename, "exec", self.flags | ast.PyCF_ONLY_AST,
                           dont_inherit=True)
            compile(ast.increment_lineno(tree, start - 1), filename, "exec", self.flags,
                    dont_inherit=True)
        except SyntaxError as error:  # what only the compiler refuses: `return` outside a def...
            line = error.lineno if error.lineno and start <= error.lineno <= node.end_lineno \
                else start
            self.skip(number, line, error, tuple(definitions), entries, whole_cell=False)
            return []
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            features = tuple(alias.name for alias in node.names)
            for feature in features:
                self.flags |= getattr(__future__, feature).compiler_flag
            entries.append(_Entry("future", start, code, features, _summary(code)))
        else:
            entries.append(_Entry("run", start, code, tuple(sorted(names)), _summary(code)))
        self.stars += [f"`{text}` ({self.where(number, line)})"
                       for line, text in _star_imports(node)]
        self.kept_code.append(code)
        self.bound |= names
        return definitions

    def drop(self, number: int, node: ast.stmt) -> None:
        start, code = self.code_of(node)
        names, definitions = _bindings(node)
        self.dropped.append(_Dropped(number, start, _summary(code), names, definitions))

    # -- the module

    def finish(self) -> ConvertedNotebook:
        used = set().union(*map(_globals_read, self.kept_code)) - _MODULE_NAMES - _BUILTINS
        undefined: dict[str, str] = {}
        for dropped in self.dropped:
            where = self.where(dropped.cell, dropped.line)
            for name in sorted(dropped.names & used):
                undefined.setdefault(name, (
                    f"{name} is not defined when grading: it is defined inside top-level code, "
                    f"which the grader does not run ({where}: `{dropped.summary}`). Define it at "
                    "the top level of a cell.") if name in dropped.definitions else (
                    f"{name} is not defined when grading: it is set by top-level code, which the "
                    f"grader does not run ({where}: `{dropped.summary}`). Define it inside your "
                    "function, or as a simple constant (a literal value)."))
            needed = sorted((dropped.names & used) - set(dropped.definitions))
            clauses = [f"{_names(dropped.definitions)}, defined in it, "
                       f"{_is(dropped.definitions)} not defined"] if dropped.definitions else []
            if needed:
                clauses.append(f"{_names(needed)}, which your code uses, {_is(needed)} not set "
                               "by it")
            if clauses:
                self.warn(dropped.cell, dropped.line, f"`{dropped.summary}` is not run when "
                          f"grading ({_RULE}), so {'; '.join(clauses)}.")
        missing = {}
        if self.stars:
            dropped_names = set().union(*(d.names for d in self.dropped))
            for name in sorted(used - self.bound - dropped_names):
                missing[name] = (f"name '{name}' is not defined when grading: nothing in "
                                 f"{self.name} defines it, and it does not come from "
                                 f"{' or '.join(self.stars)}.")
        warnings = tuple(text for _, _, text in sorted(self.warnings, key=lambda w: w[:2]))
        return ConvertedNotebook(self.name, _render(self.name, self.cells, undefined, missing),
                                 warnings, tuple(self.skipped), dict(self.definitions),
                                 {cell_filename(self.name, number): source
                                  for number, source, _ in self.cells})


# ---- the generated module -----------------------------------------------------------------------

RUNTIME_FILENAME = "<grader: notebook runtime>"

# The generated module's code, compiled under RUNTIME_FILENAME (outside the scratch directory, so
# the sandbox leaves its frames out of the tracebacks students see). It runs each kept statement
# in the module's namespace, compiled under the name "<notebook>, cell <n>" joined to the module's
# directory, after putting the cell's source in linecache so that tracebacks show its lines.
_RUNTIME = '''\
def __grader_notebook__(notebook, cells, undefined, missing):
    import __future__
    import ast
    import linecache
    import os
    import sys

    namespace = globals()
    here = os.path.dirname(__file__)

    class Unavailable:
        """Stands for a name the notebook binds but the grader could not: any use raises,
        NumPy's functions and ufuncs (np.clip(p, EPS, 1)) included."""

        def __init__(self, error, message):
            self._error, self._message = error, message

        def _fail(self, *args, **kwargs):
            raise self._error(self._message)

        __array_ufunc__ = __array_function__ = _fail

        def __getattr__(self, attribute):
            if attribute.startswith("__"):
                raise AttributeError(attribute)
            self._fail()

        def __repr__(self):
            return "<not available when grading>"

    for operation in ("call", "getitem", "setitem", "iter", "len", "bool", "contains", "array",
                      "index", "int", "float", "complex", "neg", "pos", "abs", "invert", "lt",
                      "le", "gt", "ge", "add", "radd", "sub", "rsub", "mul", "rmul", "matmul",
                      "rmatmul", "truediv", "rtruediv", "floordiv", "rfloordiv", "mod", "rmod",
                      "pow", "rpow", "and", "rand", "or", "ror", "xor", "rxor", "mro_entries"):
        setattr(Unavailable, "__" + operation + "__", Unavailable._fail)

    def unbound(name):
        return name not in namespace or isinstance(namespace[name], Unavailable)

    def syntax_error(name, message, filename, line, offset, text):
        def stub(*args, **kwargs):
            raise SyntaxError(message, (filename, line, offset, text))
        stub.__name__ = stub.__qualname__ = name
        return stub

    def describe(error):
        try:
            text = str(error)
        except Exception:  # an exception whose __str__ fails
            text = ""
        return type(error).__name__ + (": " + text[:300] if text else "")

    for name, message in undefined.items():
        namespace[name] = Unavailable(NameError, message)
    flags = 0
    for number, source, entries in cells:
        filename = os.path.join(here, notebook + ", cell " + str(number))
        lines = [line + "\\n" for line in source.split("\\n")]
        linecache.cache[filename] = (len(source), None, lines, filename)
        for kind, line, code, names, detail in entries:
            if kind == "syntax":
                for name in names:
                    namespace[name] = syntax_error(name, code, filename, line, *detail)
                continue
            try:  # at its own lines: moved there in the tree (as many blank lines first would
                #   cost the square of a long notebook's length)
                tree = compile(code, filename, "exec", flags | ast.PyCF_ONLY_AST, True)
                exec(compile(ast.increment_lineno(tree, line - 1), filename, "exec", flags, True),
                     namespace)
            except Exception as error:  # only the names this statement binds fail
                failure = (notebook + ", cell " + str(number) + ", line " + str(line) + ": `"
                           + detail + "` failed when grading (" + describe(error) + ").")
                print("warning: " + failure, file=sys.stderr)
                raises = (ModuleNotFoundError if isinstance(error, ModuleNotFoundError)
                        else ImportError if isinstance(error, ImportError) else NameError)
                for name in names:  # as in Jupyter, names already bound keep their value
                    if unbound(name):
                        namespace[name] = Unavailable(
                            raises, name + " is not available when grading: " + failure)
            else:
                if kind == "future":
                    for name in names:
                        flags |= getattr(__future__, name).compiler_flag
    for name, message in missing.items():
        if unbound(name):
            namespace[name] = Unavailable(NameError, message)
'''


def _render(name: str, cells, undefined: dict[str, str], missing: dict[str, str]) -> str:
    parts = ['"""A notebook as the grader runs it (generated from the notebook, not to be edited).',
             "",
             "Only imports, definitions and simple constants of its code cells run; cell N is the",
             'N-th code cell from the top."""',
             "exec(compile(r'''", _RUNTIME.rstrip("\n"),  # it holds no '''
             f"''', {RUNTIME_FILENAME!r}, 'exec'), globals())",
             f"__grader_notebook__({name!r}, ["]
    for number, source, entries in cells:
        parts.append(f"    ({number}, {source!r}, [")
        parts.extend(f"        {entry.literal()!r}," for entry in entries)
        parts.append("    ]),")
    parts.append(f"], {undefined!r}, {missing!r})")
    parts.append("del __grader_notebook__")
    return "\n".join(parts) + "\n"
