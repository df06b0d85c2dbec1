"""Expressions typed as text, such as ``"tanh(x*w + b)"``, built from ``Value`` operations.

``parse_expression`` reads the text with :mod:`ast` and builds the graph from this
engine's operations only: numbers, the variables it is given, ``+ - * / **``, unary ``-``
and ``+``, and calls of a few named functions. Nothing in the text is ever run as Python
(no ``eval``, ``exec`` or ``compile``); anything else is an ``ExpressionError`` naming what
was found and its column. ``parse_assignments`` reads ``NAME=NUMBER`` words, as given on
the command line.

    >>> root, leaves = parse_expression("(a + b) * (b + 1)", parse_assignments(["a=2", "b=1"]))
    >>> root.backward()
    >>> root.data, leaves["a"].grad, leaves["b"].grad
    (6.0, 2.0, 5.0)
"""
from __future__ import annotations

import ast
import keyword
import operator
import re
import unicodedata

from autograd_core import Value, maximum, minimum

__all__ = ["ExpressionError", "parse_expression", "parse_assignments", "FUNCTIONS",
           "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 10_000  # characters of text
MAX_DEPTH = 200  # nodes on the longest path of the syntax tree: a sum of n terms is n deep


class ExpressionError(ValueError):
    """The text is not an expression this module builds; the message says what and where."""


def _leaky_relu(x, slope=None):
    if slope is None:
        return x.leaky_relu()
    return x.leaky_relu(slope.data)  # a constant: _build checks


# name -> (fewest arguments, most arguments, function of Values)
_FUNCTION_TABLE = {
    "exp": (1, 1, Value.exp), "log": (1, 1, Value.log), "sqrt": (1, 1, Value.sqrt),
    "sin": (1, 1, Value.sin), "cos": (1, 1, Value.cos), "tanh": (1, 1, Value.tanh),
    "sigmoid": (1, 1, Value.sigmoid), "relu": (1, 1, Value.relu),
    "leaky_relu": (1, 2, _leaky_relu), "softplus": (1, 1, Value.softplus),
    "abs": (1, 1, Value.abs), "erf": (1, 1, Value.erf),
    "max": (2, 2, maximum), "maximum": (2, 2, maximum),
    "min": (2, 2, minimum), "minimum": (2, 2, minimum),
}
FUNCTIONS = tuple(sorted(_FUNCTION_TABLE))  # the names a text may call

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
            ast.MatMult: "@", ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<",
            ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
            ast.Not: "not", ast.Invert: "~", ast.USub: "-", ast.UAdd: "+",
            ast.And: "and", ast.Or: "or"}
_KINDS = {ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Slice: "slice",
          ast.Lambda: "lambda", ast.ListComp: "comprehension", ast.SetComp: "comprehension",
          ast.DictComp: "comprehension", ast.GeneratorExp: "comprehension",
          ast.List: "list", ast.Tuple: "tuple", ast.Set: "set", ast.Dict: "dict",
          ast.Compare: "comparison", ast.BoolOp: "boolean operator",
          ast.IfExp: "conditional expression", ast.JoinedStr: "f-string",
          ast.FormattedValue: "f-string", ast.NamedExpr: "assignment expression (:=)",
          ast.Starred: "starred argument", ast.Await: "await", ast.Yield: "yield",
          ast.YieldFrom: "yield", ast.Call: "call", ast.Name: "name", ast.Constant: "constant"}


def parse_expression(text: str, variables: dict) -> tuple[Value, dict]:
    """Build ``text`` from Values: the root and the leaves by name (``Value(x, label=name)``).

    ``variables`` maps names to numbers; each name used becomes one leaf, however often it
    appears, so converging paths stay converging. Numbers in the text become constants.

        >>> b = 6.8813735870195432  # micrograd's neuron: tanh(...) = 1/sqrt(2)
        >>> root, leaves = parse_expression("tanh(x*w + b)", {"x": 2, "w": -3, "b": b})
        >>> root.backward()
        >>> round(root.data, 4), round(leaves["x"].grad, 4), round(leaves["w"].grad, 4)
        (0.7071, -1.5, 1.0)
        >>> parse_expression("x.__class__", {"x": 1.0})
        Traceback (most recent call last):
        ...
        viz.expression.ExpressionError: attribute access 'x.__class__' is not allowed (column 1)
    """
    source, tree = _parse(text)
    known = {unicodedata.normalize("NFKC", str(k)): v for k, v in variables.items()}
    leaves = {}
    results = []  # the Values built so far; a node's arguments are the last ones
    # Post-order with an explicit stack (no recursion limit to hit): (node, depth, None) the
    # first time a node is seen, when it is checked; (node, depth, n) once its n
    # sub-expressions are built, when it is built from them.
    stack = [(tree.body, 1, None)]
    while stack:
        node, depth, n = stack.pop()
        if n is None:
            if depth > MAX_DEPTH:
                raise ExpressionError(f"expression is nested more than {MAX_DEPTH} levels deep "
                                      f"({source.where(node)})")
            children = _check(source, node, known)
            stack.append((node, depth, len(children)))
            stack.extend((child, depth + 1, None) for child in reversed(children))
            continue
        args = results[len(results) - n:]
        del results[len(results) - n:]
        results.append(_build(source, node, args, known, leaves))
    (root,) = results
    return root, leaves


def parse_assignments(items) -> dict:
    """``NAME=NUMBER`` words as a dict of floats, with an ``ExpressionError`` for a bad one.

        >>> parse_assignments(["x=2", "w=-3"])
        {'x': 2.0, 'w': -3.0}
        >>> parse_assignments(["exp=1"])
        Traceback (most recent call last):
        ...
        viz.expression.ExpressionError: 'exp' is a function name: choose another variable name
    """
    out = {}
    for item in items:
        name, sep, number = (part.strip() for part in item.partition("="))
        # identifiers are NFKC-normalised by Python's parser, so the text's names are too
        name = unicodedata.normalize("NFKC", name)
        if not sep:
            raise ExpressionError(f"expected NAME=NUMBER, got {item!r}")
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ExpressionError(f"{name!r} is not a valid variable name (in {item!r})")
        if name.startswith("__"):
            raise ExpressionError(f"{name!r}: names starting with '__' are not allowed")
        if name in _FUNCTION_TABLE:
            raise ExpressionError(f"{name!r} is a function name: choose another variable name")
        if name in out:
            raise ExpressionError(f"{name!r} is assigned twice")
        try:
            out[name] = float(number)
        except ValueError:
            raise ExpressionError(f"{number!r} is not a number (in {item!r})") from None
    return out


# ----- reading the text -----

class _Source:
    """The text being read, and how to point into it for a message."""

    def __init__(self, text: str):
        self.text = text.lstrip(" \t\f")  # leading blanks would be an indent to Python
        self.shift = len(text) - len(self.text)  # ... but columns count them
        self.lines = re.split(r"\r\n|\r|\n", self.text)  # Python's line ends

    def column(self, lineno: int, column: int) -> str:
        """'column C' (or 'line L, column C'), from a column counted from 1 in characters."""
        if lineno == 1:
            column += self.shift
        return f"column {column}" if len(self.lines) == 1 else f"line {lineno}, column {column}"

    def where(self, node) -> str:
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else ""
        # ast counts columns in UTF-8 bytes, from 0
        column = len(line.encode("utf-8")[:node.col_offset].decode("utf-8", "ignore")) + 1
        return self.column(node.lineno, column)

    def shown(self, node) -> str:
        """The node's text, short, quoted."""
        text = " ".join((ast.get_source_segment(self.text, node) or "").split())
        return repr(text if len(text) <= 40 else text[:37] + "...")

    def reject(self, node, what: str = "") -> ExpressionError:
        kind = what or _KINDS.get(type(node), type(node).__name__)
        return ExpressionError(f"{kind} {self.shown(node)} is not allowed ({self.where(node)})")


def _parse(text: str) -> tuple[_Source, ast.Expression]:
    """The text and its syntax tree, or an ExpressionError saying why there is none."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is too long: {len(text):,} characters "
                              f"(at most {MAX_LENGTH:,})")
    source = _Source(text)
    if not source.text.strip():
        raise ExpressionError("empty expression")
    try:
        return source, ast.parse(source.text, mode="eval")
    except SyntaxError as error:
        if error.offset:
            where = f" ({source.column(error.lineno or 1, error.offset)})"
        else:  # Python gives no column for an expression that stops short, or for some errors
            where = " (at the end)" if error.msg == "invalid syntax" else ""
        raise ExpressionError(f"syntax error: {error.msg}{where}") from None
    except (RecursionError, MemoryError):  # CPython's parser on deeply nested text
        raise ExpressionError("expression is too deeply nested to parse") from None
    except ValueError as error:  # e.g. a lone surrogate, which UTF-8 cannot encode
        raise ExpressionError(f"cannot read the expression: {error}") from None


def _check(source: _Source, node, known: dict) -> list:
    """Raise if ``node`` is not allowed here; else its sub-expressions, in order."""
    if isinstance(node, ast.Constant):
        value = node.value
        if type(value) not in (int, float):  # bool is an int: excluded by the exact type
            kind = {bool: "boolean", str: "string", bytes: "bytes",
                    complex: "complex number"}.get(type(value), "constant")
            raise ExpressionError(f"{kind} {source.shown(node)} is not allowed "
                                  f"({source.where(node)}): only numbers")
        return []
    if isinstance(node, ast.Name):
        _check_name(source, node, known)
        return []
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            raise source.reject(node, f"operator '{_SYMBOLS.get(type(node.op), '?')}' in")
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            raise source.reject(node, f"operator '{_SYMBOLS.get(type(node.op), '?')}' in")
        return [node.operand]
    if isinstance(node, ast.BoolOp):
        raise source.reject(node, f"boolean operator '{_SYMBOLS[type(node.op)]}' in")
    if isinstance(node, ast.Call):
        return _check_call(source, node)
    raise source.reject(node)


def _check_name(source: _Source, node: ast.Name, known: dict) -> None:
    name = node.id
    if name.startswith("__"):
        raise ExpressionError(f"name {name!r} is not allowed ({source.where(node)}): "
                              f"names starting with '__' are reserved")
    if name in _FUNCTION_TABLE:
        raise ExpressionError(f"function {name!r} must be called, as {name}(...) "
                              f"({source.where(node)})")
    if name not in known:
        names = ", ".join(sorted(known)) if known else "none were given"
        raise ExpressionError(f"unknown name {name!r} ({source.where(node)}); "
                              f"known variables: {names}")


def _check_call(source: _Source, node: ast.Call) -> list:
    if not isinstance(node.func, ast.Name):
        kind = _KINDS.get(type(node.func), type(node.func).__name__)
        raise ExpressionError(f"only named functions can be called, not {kind} "
                              f"{source.shown(node.func)} ({source.where(node)})")
    name = node.func.id
    if name not in _FUNCTION_TABLE:
        if name.startswith("__"):
            raise ExpressionError(f"name {name!r} is not allowed ({source.where(node)}): "
                                  f"names starting with '__' are reserved")
        raise ExpressionError(f"unknown function {name!r} ({source.where(node)}); "
                              f"functions: {', '.join(FUNCTIONS)}")
    if node.keywords:
        raise source.reject(node.keywords[0], "keyword argument")
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise source.reject(arg)
    low, high, _ = _FUNCTION_TABLE[name]
    if not low <= len(node.args) <= high:
        takes = f"{low}" if low == high else f"{low} or {high}"
        raise ExpressionError(f"{name}() takes {takes} argument{'s' if high > 1 else ''}, "
                              f"got {len(node.args)} ({source.where(node)})")
    return list(node.args)


# ----- building the graph -----

def _constant(x: float) -> Value:
    # No gradient, so no history either: ops on constants give constants, and -2 or 2*3
    # are drawn as the numbers -2 and 6, not as operations.
    return Value(x, requires_grad=False)


def _build(source: _Source, node, args: list, known: dict, leaves: dict) -> Value:
    if isinstance(node, ast.Constant):
        try:
            return _constant(float(node.value))
        except OverflowError:
            raise ExpressionError(f"number {source.shown(node)} is too large "
                                  f"({source.where(node)})") from None
    if isinstance(node, ast.Name):
        if node.id not in leaves:
            leaves[node.id] = Value(float(known[node.id]), label=node.id)
        return leaves[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](*args)
    if isinstance(node, ast.UnaryOp):
        return args[0] if isinstance(node.op, ast.UAdd) else -args[0]
    name = node.func.id  # a Call, checked by _check_call
    if name == "leaky_relu" and len(args) == 2:
        slope = args[1]
        if slope.requires_grad:  # the slope is a parameter of the op, not an input
            raise ExpressionError(f"the slope of leaky_relu must be a number, not depend on "
                                  f"variables ({source.where(node.args[1])})")
    return _FUNCTION_TABLE[name][2](*args)
