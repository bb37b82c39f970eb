"""The sandbox for the conditions and scripts that process analysts write in BPMN diagrams.

Gateway conditions, script tasks, timer and DMN expressions come from the diagrams, not from
programmers, so they never reach Python's ``eval``/``exec`` as they are. Each source is

1. parsed and checked node by node against an ALLOW-LIST (anything not listed is refused, and the
   message names the construct and where it is),
2. rewritten so that the operations that can build huge values go through size checks,
3. run with no Python builtins at all, only the helpers below and the task data, under a time budget.

A restricted ``globals`` dict alone is not a sandbox: ``().__class__.__base__.__subclasses__()`` reaches
every class in the process without naming a single builtin. Here that fails at step 1.

What an analyst may write
-------------------------
Conditions (``mode="eval"``): one expression, e.g. ``amount > 100 and tariff.get("zone") == "day"``.

- literals: numbers, strings, ``True``/``False``/``None``, lists, tuples, dicts, sets, f-strings
- names of task-data fields and of the helpers below (helpers win when a field has the same name)
- arithmetic ``+ - * / // % **``, set/dict operators ``| & ^``, unary ``- + not ~``
- comparisons ``== != < <= > >= in not in is is not``, ``and``/``or``, ``a if cond else b``
- indexing and slicing: ``items[0]``, ``name[:10]``, ``row["kwh"]``
- comprehensions: ``[x for x in xs if x]``, ``{k: v for k, v in d.items()}``, ``{...}``, ``sum(x for x in xs)``
- calling a helper (below) or one of these methods / reading one of these attributes::

      get keys values items            lower upper strip lstrip rstrip startswith endswith replace split join
      count index append               isoformat year month day date weekday isoweekday hour minute
      days seconds total_seconds       quantize

Scripts (``mode="exec"``) may also contain statements:

- assignment ``x = ...``, ``a, b = ...``, ``row["k"] = ...``, ``x += ...``, ``x: int = ...``
- ``if`` / ``elif`` / ``else``, ``for ... in ...`` (with ``break``, ``continue``, ``else``), ``pass``
- expression statements such as ``lines.append(line)``

A script's top-level assignments become task data. Values only: a name may not end up holding a
function or a generator.

Refused, among others: ``import``, ``lambda``, ``def``, ``class``, ``while``, ``with``, ``try``, ``raise``,
``del``, ``global``/``nonlocal``, ``yield``/``await``, ``:=``, ``*args``/``**kwargs`` in calls, ``<<``/``>>``,
``%``-formatting of strings (use f-strings), assigning to attributes or to helper names,
any name, attribute or keyword starting with ``_``, and the names
``eval exec compile open getattr setattr delattr globals locals vars input breakpoint type object super
help memoryview bytearray`` (a task-data field with one of these names cannot be read here).

Helpers (``HELPERS``)
---------------------
``abs min max round len sum sorted any all str int float bool list dict set tuple range``
``Decimal date datetime timedelta`` — ``today()`` and ``now()`` in the utility's time zone
(``TIMEZONE``, default Europe/Moscow) — and the production calendar:
``add_working_days(day, n)``, ``working_days_between(start, end)``, ``is_working_day(day)``
(see ``app.services.work_calendar``).

Limits
------
Source at most 10,000 characters, 2,000 AST nodes, nesting 100 levels deep; 50 ms of running time by
default; ``**`` with an exponent above 1,000, a base of more than 100 digits or an integer result of
more than 10,000 digits is refused; a string, list or tuple built by ``*``, ``+``, ``join`` or ``replace``
may hold at most 100,000 items; ``range()`` at most 100,000 numbers; f-string widths and precisions at
most 1,000. Breaking a rule or a limit raises ``SandboxError`` (a ``ValueError``) saying where and why;
ordinary mistakes (an unknown name, division by zero) raise the usual Python errors.

Python API: ``check(source, mode)``, ``evaluate(expression, data)``, ``execute(script, data)``,
``SandboxedEnvironment`` and ``script_engine()`` for SpiffWorkflow.
"""
from __future__ import annotations

import ast
import copy
import functools
import operator
import os
import re
import sys
import time
import types
from collections.abc import Sized
from datetime import date, datetime, timedelta
from decimal import Decimal as _Decimal
from zoneinfo import ZoneInfo

from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from app.services import work_calendar

MAX_SOURCE_CHARS = 10_000
MAX_NODES = 2_000
MAX_DEPTH = 100  # also keeps the recursive rewriting and compile() far from Python's recursion limit
DEFAULT_TIMEOUT_MS = 50
MAX_EXPONENT = 1_000
MAX_BASE_DIGITS = 100
MAX_INT_DIGITS = 10_000
MAX_ITEMS = 100_000
MAX_FORMAT_NUMBER = 1_000

# Same setting (and default) as app.config.TIMEZONE; read here because the sandbox knows no Flask.
LOCAL_TIMEZONE = ZoneInfo(os.environ.get("TIMEZONE", "Europe/Moscow"))

# Spiff finds the failing line of a script by looking for frames of this file name in the traceback.
SOURCE_FILENAME = "<string>"


class SandboxError(ValueError):
    """A construct or a limit the sandbox refuses. ``lineno``/``col`` are 1-based, None when unknown."""

    def __init__(self, reason: str, lineno: int | None = None, col: int | None = None):
        self.reason, self.lineno, self.col = reason, lineno, col
        super().__init__(self._text())

    def _text(self) -> str:
        if self.lineno is None:
            return self.reason
        if self.col is None:
            return f"line {self.lineno}: {self.reason}"
        return f"line {self.lineno}, col {self.col}: {self.reason}"

    def __str__(self) -> str:
        return self._text()

    def __reduce__(self):  # survives pickling (Celery results, multiprocessing)
        return type(self), (self.reason, self.lineno, self.col)


# --- the allow-list -------------------------------------------------------------------------------

_OPERATORS = (
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.BitOr, ast.BitAnd, ast.BitXor,
    ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Invert,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
)
EXPRESSION_NODES = frozenset((
    ast.Expression, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Name, ast.Load, ast.Store,
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Subscript, ast.Slice,
    ast.Attribute, ast.Call, ast.keyword, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
    ast.comprehension, ast.JoinedStr, ast.FormattedValue, *_OPERATORS,
))
STATEMENT_NODES = frozenset((
    ast.Module, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.If, ast.For, ast.Break, ast.Continue,
    ast.Pass, ast.Expr,
))
SAFE_ATTRIBUTES = frozenset((
    "get", "keys", "values", "items",
    "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "replace", "split", "join",
    "count", "index", "append",
    "isoformat", "year", "month", "day", "date", "weekday", "isoweekday", "hour", "minute",
    "days", "seconds", "total_seconds",
    "quantize",
))
FORBIDDEN_NAMES = frozenset((
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals", "vars",
    "input", "breakpoint", "__builtins__", "type", "object", "super", "help", "memoryview", "bytearray",
))
_HINTS = {
    "While": "use a for loop over a list or range()",
    "Lambda": "call a helper instead",
    "Import": "modules are not available; ask for a helper",
    "ImportFrom": "modules are not available; ask for a helper",
    "NamedExpr": "assign in a script instead",
    "Starred": "pass arguments one by one",
    "LShift": "use * or ** instead",
    "RShift": "use // instead",
}


def check(source: str, mode: str = "eval") -> ast.AST:
    """Parse ``source`` ("eval": one expression, "exec": a script) and refuse what is not allowed."""
    if mode not in ("eval", "exec"):
        raise ValueError("mode must be 'eval' or 'exec'")
    if not isinstance(source, str):
        raise SandboxError(f"the source must be text, not {type(source).__name__}")
    if len(source) > MAX_SOURCE_CHARS:
        raise SandboxError(f"the source is {len(source)} characters long; at most {MAX_SOURCE_CHARS} are allowed")
    try:
        tree = ast.parse(source, filename=SOURCE_FILENAME, mode=mode)
    except SyntaxError as error:
        raise SandboxError(f"syntax error: {error.msg}", error.lineno, error.offset) from None
    except (ValueError, RecursionError, MemoryError):  # null bytes; nesting the parser cannot take
        raise SandboxError("the source cannot be parsed (too deeply nested?)") from None
    _Checker(mode).walk(tree)
    return tree


class _Checker:
    def __init__(self, mode: str):
        self.allowed = EXPRESSION_NODES | STATEMENT_NODES if mode == "exec" else EXPRESSION_NODES

    def walk(self, tree: ast.AST) -> None:
        # Iterative, in source order, so that the first problem reported is the first one written.
        # Operators, contexts and comprehension clauses carry no position: they report their parent's.
        count = 0
        stack = [(tree, 0, tree)]
        while stack:
            node, depth, located = stack.pop()
            if hasattr(node, "lineno"):
                located = node
            count += 1
            if count > MAX_NODES:
                self.refuse(located, f"the source has more than {MAX_NODES} syntax nodes")
            if depth > MAX_DEPTH:
                self.refuse(located, f"the source is nested more than {MAX_DEPTH} levels deep")
            self.visit(node, located)
            children = list(ast.iter_child_nodes(node))
            stack.extend((child, depth + 1, located) for child in reversed(children))

    @staticmethod
    def refuse(node: ast.AST, reason: str):
        lineno = getattr(node, "lineno", None)
        col = getattr(node, "col_offset", None)
        raise SandboxError(reason, lineno, None if col is None else col + 1)

    def visit(self, node: ast.AST, located: ast.AST) -> None:
        if type(node) not in self.allowed:
            kind = type(node).__name__
            hint = _HINTS.get(kind)
            self.refuse(located, f"{kind} is not allowed" + (f" ({hint})" if hint else ""))
        check_kind = getattr(self, f"visit_{type(node).__name__}", None)
        if check_kind:
            check_kind(node)

    def check_name(self, node: ast.AST, name: str) -> None:
        if name.startswith("_"):
            self.refuse(node, f"names starting with '_' are not allowed: {name}")
        if name in FORBIDDEN_NAMES:
            self.refuse(node, f"'{name}' is not allowed")

    def visit_Name(self, node: ast.Name) -> None:
        self.check_name(node, node.id)
        if isinstance(node.ctx, ast.Store) and node.id in HELPERS:
            self.refuse(node, f"'{node.id}' is a helper and cannot be assigned")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr.startswith("_"):
            self.refuse(node, f"attributes starting with '_' are not allowed: .{node.attr}")
        if node.attr not in SAFE_ATTRIBUTES:
            self.refuse(node, f"attribute .{node.attr} is not allowed")
        if not isinstance(node.ctx, ast.Load):
            self.refuse(node, f"assigning to .{node.attr} is not allowed")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            self.check_name(func, func.id)
            if func.id not in HELPERS:
                self.refuse(node, f"'{func.id}()' is not a helper the sandbox provides")
        elif type(func) not in self.allowed:  # (lambda: 1)() is refused as a Lambda
            self.visit(func, node)
        elif not isinstance(func, ast.Attribute):  # the attribute itself is checked on its own visit
            self.refuse(node, "only helpers and allowed methods can be called")
        for keyword in node.keywords:
            if keyword.arg is None:
                self.refuse(keyword, "**keyword unpacking is not allowed in calls")
            self.check_name(keyword, keyword.arg)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if not node.simple:
            self.refuse(node, "annotated assignment is only allowed to a plain name")

    def visit_comprehension(self, node: ast.comprehension) -> None:
        if node.is_async:
            self.refuse(node.target, "async comprehensions are not allowed")


# --- rewriting: size checks around the operations that can blow up ----------------------------------

_GUARDED_OPERATORS = {ast.Add: "+", ast.Mult: "*", ast.Pow: "**", ast.Mod: "%"}
_GUARDED_METHODS = frozenset(("join", "replace"))


def _position(node: ast.AST) -> ast.Constant:
    return ast.Constant((node.lineno, node.col_offset + 1))


def _guard_call(guard: str, node: ast.AST, *args: ast.expr) -> ast.Call:
    call = ast.Call(func=ast.Name(id=guard, ctx=ast.Load()), args=[*args, _position(node)], keywords=[])
    return ast.copy_location(call, node)


def _as_load(target: ast.expr) -> ast.expr:
    loaded = copy.deepcopy(target)
    loaded.ctx = ast.Load()
    return loaded


class _Instrument(ast.NodeTransformer):
    """Route ``+ * ** %``, ``.join``/``.replace`` and f-string formatting through the ``__sandbox_*`` guards.

    The guards' names start with "_", which the checker refuses in analysts' code, so only this
    rewriting can refer to them.
    """

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        symbol = _GUARDED_OPERATORS.get(type(node.op))
        if symbol is None:
            return node
        return _guard_call("__sandbox_binop", node, ast.Constant(symbol), node.left, node.right)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        symbol = _GUARDED_OPERATORS.get(type(node.op))
        if symbol is None:
            return node
        # `row["k"] += x` becomes `row["k"] = guard(row["k"], x)`: the subscript is evaluated twice,
        # which is harmless because nothing an analyst can call inside it has side effects on it.
        value = _guard_call("__sandbox_inplace", node, ast.Constant(symbol), _as_load(node.target), node.value)
        return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        # Module-level annotations would be evaluated and stored in __annotations__; drop them.
        self.generic_visit(node)
        if node.value is None:
            return ast.copy_location(ast.Pass(), node)
        return ast.copy_location(ast.Assign(targets=[node.target], value=node.value), node)

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if node.attr not in _GUARDED_METHODS:
            return node
        return _guard_call("__sandbox_method", node, node.value, ast.Constant(node.attr))

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)
        spec = node.format_spec or ast.Constant("")
        call = _guard_call("__sandbox_format", node, node.value, ast.Constant(node.conversion), spec)
        return ast.copy_location(ast.FormattedValue(value=call, conversion=-1, format_spec=None), node)


@functools.lru_cache(maxsize=1024)
def _compiled(source: str, mode: str) -> types.CodeType:
    # Conditions are evaluated again and again; a code object is immutable, so sharing it is safe.
    tree = _Instrument().visit(check(source, mode))
    return compile(ast.fix_missing_locations(tree), SOURCE_FILENAME, mode)


# --- the guards -----------------------------------------------------------------------------------

_SEQUENCES = (str, bytes, list, tuple)
_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.3219280948873626)  # log2(10)
_BIG_BASE = 10 ** MAX_BASE_DIGITS


def _fail(reason: str, position: tuple[int, int] | None = None):
    lineno, col = position or (_sandbox_lineno(sys._getframe(1)), None)
    raise SandboxError(reason, lineno, col)


def _sandbox_lineno(frame) -> int | None:
    while frame is not None:
        if frame.f_code.co_filename == SOURCE_FILENAME:
            return frame.f_lineno
        frame = frame.f_back
    return None


def _check_items(count: int, what: str, position) -> None:
    if count > MAX_ITEMS:
        _fail(f"{what} would hold {count} items; at most {MAX_ITEMS} are allowed", position)


def _is_int(value) -> bool:
    return isinstance(value, int)  # bool included: True * "x" is "x"


def _check_operands(symbol: str, left, right, position) -> None:
    if symbol == "*":
        if _is_int(left) and isinstance(right, _SEQUENCES):
            left, right = right, left
        if isinstance(left, _SEQUENCES) and _is_int(right):
            _check_items(len(left) * max(right, 0), "the repeated sequence", position)
        elif _is_int(left) and _is_int(right) and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
            _fail(f"the product would have more than {MAX_INT_DIGITS} digits", position)
    elif symbol == "+":
        # `items += range(100000)` extends a list with any sized iterable, hence Sized on the right.
        if isinstance(left, _SEQUENCES) and isinstance(right, Sized):
            _check_items(len(left) + len(right), "the concatenation", position)
    elif symbol == "**":
        if isinstance(right, (int, float, _Decimal)) and abs(right) > MAX_EXPONENT:
            _fail(f"exponents above {MAX_EXPONENT} are not allowed", position)
        if _too_many_digits(left):
            _fail(f"a base of more than {MAX_BASE_DIGITS} digits is not allowed", position)
        if _is_int(left) and _is_int(right) and left.bit_length() * right > _MAX_INT_BITS:
            _fail(f"the power would have more than {MAX_INT_DIGITS} digits", position)
    elif symbol == "%" and isinstance(left, (str, bytes)):
        # '%1000000000d' % 1 allocates a gigabyte; f-strings are checked instead.
        _fail("%-formatting of strings is not allowed; use an f-string", position)


def _too_many_digits(value) -> bool:
    if isinstance(value, int):
        return abs(value) >= _BIG_BASE
    if isinstance(value, float):
        return abs(value) >= 1e100
    if isinstance(value, _Decimal):
        return value.is_finite() and not value.is_zero() and value.adjusted() >= MAX_BASE_DIGITS
    return False


_BINARY = {"+": operator.add, "*": operator.mul, "**": operator.pow, "%": operator.mod}
_INPLACE = {"+": operator.iadd, "*": operator.imul, "**": operator.ipow, "%": operator.imod}


def _binop(symbol, left, right, position):
    _check_operands(symbol, left, right, position)
    return _BINARY[symbol](left, right)


def _inplace(symbol, target, value, position):
    _check_operands(symbol, target, value, position)
    return _INPLACE[symbol](target, value)  # lists keep their identity on +=, as in Python


def _method(obj, name, position):
    guarded = _GUARDED_TEXT_METHODS.get(name)
    if guarded and isinstance(obj, (str, bytes)):  # "-".join(parts)
        return functools.partial(guarded, position, obj)
    if guarded and (obj is str or obj is bytes):  # str.join("-", parts)
        return functools.partial(guarded, position)
    return getattr(obj, name)  # `name` passed the allow-list at check time


def _join(position, separator, items):
    items = list(items)
    try:
        # map() runs in C: a Python-level loop here would be traced and eat the time budget.
        size = len(separator) * max(len(items) - 1, 0) + sum(map(len, items))
    except TypeError:
        size = 0  # a non-text item: join() itself says so
    _check_items(size, "the joined text", position)
    return separator.join(items)


def _replace(position, text, old, new, count=-1):
    found = text.count(old)  # an empty `old` matches len(text) + 1 times, as replace() does
    if count >= 0:
        found = min(found, count)
    _check_items(len(text) + found * (len(new) - len(old)), "the replaced text", position)
    return text.replace(old, new, count)


_GUARDED_TEXT_METHODS = {"join": _join, "replace": _replace}
_FORMAT_NUMBERS = re.compile(r"\d+")


def _format(value, conversion, spec, position):
    if conversion == ord("s"):
        value = str(value)
    elif conversion == ord("r"):
        value = repr(value)
    elif conversion == ord("a"):
        value = ascii(value)
    # Widths and precisions allocate: f"{1:>1000000000}" is a gigabyte. Dates use strftime codes, where
    # digits are literal text.
    if spec and not isinstance(value, date):
        if any(len(n) > 4 or int(n) > MAX_FORMAT_NUMBER for n in _FORMAT_NUMBERS.findall(spec)):
            _fail(f"format widths and precisions above {MAX_FORMAT_NUMBER} are not allowed", position)
        if isinstance(value, _Decimal) and value.is_finite() and not value.is_zero() \
                and abs(value.adjusted()) > MAX_FORMAT_NUMBER:
            _fail("this number is too large or too small to format in full", position)
    return format(value, spec)


_GUARDS = {
    "__sandbox_binop": _binop,
    "__sandbox_inplace": _inplace,
    "__sandbox_method": _method,
    "__sandbox_format": _format,
}


# --- helpers ----------------------------------------------------------------------------------------

def _range(*args) -> range:
    numbers = range(*args)
    try:
        length = len(numbers)
    except OverflowError:
        length = MAX_ITEMS + 1
    _check_items(length, "range()", None)
    return numbers


def _round(number, ndigits=None):
    # round(5, -10**9) computes 10**(10**9) internally.
    if ndigits is not None and _is_int(ndigits) and abs(ndigits) > MAX_BASE_DIGITS:
        _fail(f"round() to more than {MAX_BASE_DIGITS} digits is not allowed")
    return round(number) if ndigits is None else round(number, ndigits)


def _sum(iterable, start=0):
    # sum() of lists or strings concatenates in C, out of the guards' sight; numbers and durations only.
    if not isinstance(start, (int, float, _Decimal, timedelta)):
        _fail("sum() adds numbers and timedeltas only")
    return sum(iterable, start)


def _int(value=0, *base):
    # int(Decimal("1e100000000")) builds a hundred-million-digit integer.
    if isinstance(value, _Decimal) and value.is_finite() and value.adjusted() > MAX_INT_DIGITS:
        _fail(f"the integer would have more than {MAX_INT_DIGITS} digits")
    return int(value, *base)


def _make_decimal(value="0"):
    """decimal.Decimal(value) (the helper `Decimal`), refusing exponents beyond ±1000 (they format to megabytes of digits)."""
    number = _Decimal(value)
    if number.is_finite() and not number.is_zero() and abs(number.adjusted()) > MAX_FORMAT_NUMBER:
        _fail(f"Decimal exponents beyond ±{MAX_FORMAT_NUMBER} are not allowed")
    return number


def today() -> date:
    """Today's date in the utility's time zone."""
    return datetime.now(LOCAL_TIMEZONE).date()


def now() -> datetime:
    """The current moment, an aware datetime in the utility's time zone."""
    return datetime.now(LOCAL_TIMEZONE)


def add_working_days(day: date, n: int) -> date:
    """The n-th working day after `day` on the production calendar (n = 0: `day` or the next working day)."""
    return work_calendar.add_working_days(day, n)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end] on the production calendar."""
    return work_calendar.working_days_between(start, end)


def is_working_day(day: date) -> bool:
    """True on a working day of the production calendar."""
    return work_calendar.is_working_day(day)


HELPERS: dict[str, object] = {
    # numbers and collections; the wrapped ones refuse sizes that would exhaust memory or time
    "abs": abs, "min": min, "max": max, "round": _round, "len": len, "sum": _sum, "sorted": sorted,
    "any": any, "all": all,
    # conversions
    "str": str, "int": _int, "float": float, "bool": bool,
    "list": list, "dict": dict, "set": set, "tuple": tuple,
    "range": _range,  # at most MAX_ITEMS numbers
    # money and time
    "Decimal": _make_decimal, "date": date, "datetime": datetime, "timedelta": timedelta,
    "today": today, "now": now,
    # the production calendar (app.services.work_calendar), without local overrides
    "add_working_days": add_working_days,
    "working_days_between": working_days_between,
    "is_working_day": is_working_day,
}

# The first use of the calendar imports the package's Russian rules (~150 ms); do it now rather than
# inside somebody's 50 ms budget.
work_calendar.is_working_day(date.today())


# --- running ------------------------------------------------------------------------------------------

class _OutOfTime(BaseException):
    # A BaseException, so that an `except Exception` inside a helper or library cannot swallow it
    # (the trace function is switched off once it raises; a swallowed stop would let the loop run free).
    def __init__(self, lineno: int | None):
        super().__init__(lineno)
        self.lineno = lineno


class _Budget:
    """A trace function that stops the run once the time is up.

    sys.settrace is per thread, so concurrent runs in a worker's threads each keep their own budget.
    Every frame is traced, including helpers', so a long loop inside a helper is stopped as well.
    """

    def __init__(self, timeout_ms: float):
        self.deadline = time.perf_counter() + timeout_ms / 1000

    def trace(self, frame, event, arg):
        if time.perf_counter() > self.deadline:
            raise _OutOfTime(_sandbox_lineno(frame))
        return self.trace


def _run(code: types.CodeType, namespace: dict, timeout_ms: float):
    budget = _Budget(timeout_ms)
    previous = sys.gettrace()  # a debugger's or coverage's tracer, put back afterwards
    sys.settrace(budget.trace)
    try:
        return eval(code, namespace)  # noqa: S307 — checked and instrumented above; runs exec-mode code too
    except _OutOfTime as stop:
        raise SandboxError(f"took longer than {timeout_ms:g} ms", stop.lineno) from None
    finally:
        sys.settrace(previous)


def _namespace(data: dict) -> dict:
    # Helpers after data: a task-data field called `date` cannot hide the helper.
    return {**data, **HELPERS, **_GUARDS, "__builtins__": {}}


def _storable(name: str, value) -> None:
    # Task data is serialized with the case; and a generator would run later, outside the time budget.
    if isinstance(value, types.GeneratorType):
        raise SandboxError(f"{name} would hold a generator; wrap it in list()")
    if callable(value):
        raise SandboxError(f"{name} would hold a function or a type; task data holds values only")


def evaluate(expression: str, data: dict, timeout_ms: float = DEFAULT_TIMEOUT_MS):
    """The value of ``expression`` with the task ``data`` as its variables."""
    value = _run(_compiled(expression, "eval"), _namespace(data), timeout_ms)
    _storable("the result", value)
    return value


def _script_changes(script: str, data: dict, timeout_ms: float) -> dict:
    namespace = _namespace(data)
    _run(_compiled(script, "exec"), namespace, timeout_ms)
    hidden = HELPERS.keys() | _GUARDS.keys()
    changes = {}
    for name, value in namespace.items():
        if name in hidden or name.startswith("_"):
            continue
        if name not in data or data[name] is not value:
            _storable(f"'{name}'", value)
            changes[name] = value
    return changes


def execute(script: str, data: dict, timeout_ms: float = DEFAULT_TIMEOUT_MS) -> dict:
    """Run ``script`` on the task ``data``; its top-level assignments are written into ``data``, which
    is returned. When the script fails no name is written (a list it already appended to keeps the item)."""
    data.update(_script_changes(script, data, timeout_ms))
    return data


# --- SpiffWorkflow --------------------------------------------------------------------------------

class SandboxedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment, with every condition and script run in the sandbox.

    Same contract as Spiff's TaskDataEnvironment: ``evaluate`` sees the task data over the external
    context (data objects, DMN inputs) and returns the value; ``execute`` updates the task data in place
    and returns True; names that came from the external context are not copied into the task data.
    """

    def __init__(self, timeout_ms: float = DEFAULT_TIMEOUT_MS):
        super().__init__()
        self.timeout_ms = timeout_ms

    def evaluate(self, expression, context, external_context=None):
        return evaluate(expression, {**(external_context or {}), **context}, self.timeout_ms)

    def execute(self, script, context, external_context=None):
        external = external_context or {}
        changes = _script_changes(script, {**external, **context}, self.timeout_ms)
        context.update({name: value for name, value in changes.items() if name not in external})
        return True


def script_engine() -> PythonScriptEngine:
    """A SpiffWorkflow script engine whose conditions and scripts run in the sandbox."""
    return PythonScriptEngine(environment=SandboxedEnvironment())
