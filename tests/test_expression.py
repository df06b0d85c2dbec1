"""viz.expression: text built from Value ops only, every other construct refused with a
message that says what and where, and random text never getting further than that."""
import math
import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_core.testing import numerical_grad
from autograd_core.testing import strategies as ags
from viz.expression import (FUNCTIONS, MAX_DEPTH, MAX_LENGTH, ExpressionError,
                            parse_assignments, parse_expression)

NEURON_B = 6.8813735870195432  # micrograd's neuron: tanh(x*w + b) = 1/sqrt(2)


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


# text, variables, value, {name: gradient}: each worked out by hand
ACCEPTED = [
    ("tanh(x*w + b)", {"x": 2, "w": -3, "b": NEURON_B},
     1 / math.sqrt(2), {"x": -1.5, "w": 1.0, "b": 0.5}),
    ("(a + b) * (b + 1)", {"a": 2, "b": 1}, 6.0, {"a": 2.0, "b": 5.0}),
    ("x * x * x", {"x": 1.5}, 3.375, {"x": 3 * 1.5 ** 2}),
    ("x**2 + 3*x - 1", {"x": 1.5}, 1.5 ** 2 + 3.5, {"x": 2 * 1.5 + 3}),
    ("x / 4 - 1e-3 * x", {"x": 2.0}, 0.5 - 2e-3, {"x": 0.25 - 1e-3}),
    ("2 ** x", {"x": 3.0}, 8.0, {"x": 8 * math.log(2)}),
    ("x ** w", {"x": 2.0, "w": 3.0}, 8.0, {"x": 12.0, "w": 8 * math.log(2)}),
    ("-x + +w - -x", {"x": 1.0, "w": 2.0}, 2.0, {"x": 0.0, "w": 1.0}),
    ("exp(x) / (1 + exp(x))", {"x": 0.3}, _sigmoid(0.3),
     {"x": _sigmoid(0.3) * (1 - _sigmoid(0.3))}),
    ("sigmoid(x) * softplus(w)", {"x": 0.3, "w": -1.0},
     _sigmoid(0.3) * math.log1p(math.exp(-1.0)),
     {"x": _sigmoid(0.3) * (1 - _sigmoid(0.3)) * math.log1p(math.exp(-1.0)),
      "w": _sigmoid(0.3) * _sigmoid(-1.0)}),
    ("log(x) + sqrt(x)", {"x": 4.0}, math.log(4) + 2, {"x": 0.25 + 0.25}),
    ("sin(x) * cos(x)", {"x": 0.7}, math.sin(0.7) * math.cos(0.7), {"x": math.cos(1.4)}),
    ("relu(x) + relu(-x) + abs(w)", {"x": -2.0, "w": -3.0}, 5.0, {"x": -1.0, "w": -1.0}),
    ("leaky_relu(x)", {"x": -2.0}, -0.02, {"x": 0.01}),
    ("leaky_relu(x, 0.2)", {"x": -2.0}, -0.4, {"x": 0.2}),
    ("leaky_relu(x, 0.1 * 2)", {"x": 3.0}, 3.0, {"x": 1.0}),
    ("erf(x)", {"x": 0.5}, math.erf(0.5), {"x": 2 / math.sqrt(math.pi) * math.exp(-0.25)}),
    ("max(x, w) - min(x, w)", {"x": 1.0, "w": 4.0}, 3.0, {"x": -1.0, "w": 1.0}),
    ("maximum(x, 0) + minimum(x, 0)", {"x": -2.0}, -2.0, {"x": 1.0}),
    ("max(x, x)", {"x": 2.0}, 2.0, {"x": 1.0}),  # a tie: half to each path, same leaf
    ("  x\n", {"x": 2.0}, 2.0, {"x": 1.0}),  # blanks around the text
    ("(x *\n w)", {"x": 2.0, "w": 3.0}, 6.0, {"x": 3.0, "w": 2.0}),
]


@pytest.mark.parametrize("text, variables, value, grads", ACCEPTED,
                         ids=[case[0] for case in ACCEPTED])
def test_accepted_expressions_compute_values_and_gradients(text, variables, value, grads):
    root, leaves = parse_expression(text, variables)
    root.backward()
    assert root.data == pytest.approx(value, rel=1e-12, abs=1e-12)
    assert {name: leaf.grad for name, leaf in leaves.items()} == pytest.approx(grads)


def test_leaves_are_labelled_shared_and_only_those_used():
    root, leaves = parse_expression("w * x + x", {"x": 2, "w": 3, "unused": 1})
    assert list(leaves) == ["w", "x"]  # in order of first use
    assert [leaf.label for leaf in leaves.values()] == ["w", "x"]
    assert all(type(leaf.data) is float and leaf.requires_grad for leaf in leaves.values())
    product, x = root.parents
    assert x is leaves["x"] and leaves["x"] in product.parents  # converging paths


def test_numbers_are_constants_and_a_negative_number_is_one_constant():
    root, leaves = parse_expression("x * -2", {"x": 1.5})
    x, constant = root.parents
    assert x is leaves["x"]
    assert constant.data == -2.0 and not constant.requires_grad and not constant.parents
    root, leaves = parse_expression("x + 2 * -3", {"x": 1.0})
    x, constant = root.parents  # 2 * -3 is folded by the engine: a constant, no history
    assert (constant.data, constant.requires_grad, constant.parents) == (-6.0, False, ())
    root, leaves = parse_expression("2 * 3", {})
    assert (root.data, leaves, root.requires_grad) == (6.0, {}, False)


def test_overflow_and_domain_errors_follow_the_engine_not_python():
    with np.errstate(all="ignore"):
        assert parse_expression("10 ** 400", {})[0].data == math.inf  # floats, not ints
        assert math.isnan(parse_expression("log(x)", {"x": -1})[0].data)
        assert parse_expression("1 / x", {"x": 0})[0].data == math.inf


# text, a fragment of the message that must stay stable
REJECTED = [
    ("__import__('os').system('x')", "only named functions can be called"),
    ("__import__('os')", "name '__import__' is not allowed"),
    ("__builtins__", "name '__builtins__' is not allowed"),
    ("x.__class__", "attribute access 'x.__class__' is not allowed (column 1)"),
    ("[x][0]", "subscript"),
    ("(x, w)", "tuple"),
    ("{x: w}", "dict"),
    ("lambda: 1", "lambda 'lambda: 1' is not allowed"),
    ("(lambda: 1)()", "only named functions can be called, not lambda"),
    ("exp(x)(w)", "only named functions can be called, not call"),
    ("[x for x in w]", "comprehension"),
    ("exp(x=1)", "keyword argument 'x=1' is not allowed (column 5)"),
    ("exp(**w)", "keyword argument"),
    ("exp(*xs)", "starred argument '*xs' is not allowed (column 5)"),
    ("x if x else w", "conditional expression"),
    ("x < w", "comparison"),
    ("x and w", "boolean operator 'and'"),
    ("not x", "operator 'not'"),
    ('f"{x}"', "f-string"),
    ("(y := 1)", "assignment expression (:=)"),
    ("x @ w", "operator '@'"),
    ("x // w", "operator '//'"),
    ("x % w", "operator '%'"),
    ("x | w", "operator '|'"),
    ("x << w", "operator '<<'"),
    ("~x", "operator '~'"),
    ("open('f')", "unknown function 'open'"),
    ("print(x)", "functions: abs, cos, erf, exp"),
    ("x(1)", "unknown function 'x'"),
    ("True", "boolean 'True' is not allowed"),
    ("None", "constant 'None' is not allowed"),
    ("...", "constant '...' is not allowed"),
    ("'a'", "string"),
    ("b'a'", "bytes"),
    ("1j", "complex number '1j'"),
    ("y + 1", "unknown name 'y' (column 1); known variables: w, x, xs"),
    ("exp", "function 'exp' must be called"),
    ("exp(x, w)", "exp() takes 1 argument, got 2"),
    ("leaky_relu()", "leaky_relu() takes 1 or 2 arguments, got 0"),
    ("max(x)", "max() takes 2 arguments, got 1"),
    ("leaky_relu(x, w)", "slope of leaky_relu must be a number"),
    ("await x", "await"),
    ("", "empty expression"),
    ("  \n ", "empty expression"),
    ("x +", "syntax error"),
    ("exp(x", "syntax error: '(' was never closed (column 4)"),
    ("x = 1", "syntax error"),
    ("x; w", "syntax error"),
    ("1" * 400, "is too large"),
    ("x\x00", "null bytes"),
    ("\ud800", "cannot read the expression"),
]


@pytest.mark.parametrize("text, fragment", REJECTED, ids=[repr(t[:30]) for t, _ in REJECTED])
def test_rejected_expressions_say_what_and_where(text, fragment):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, {"x": 1.0, "w": 2.0, "xs": 3.0})
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("text, where", [
    ("x + w.real", "(column 5)"),
    ("   x.real", "(column 4)"),  # leading blanks are counted
    ("é + é.real", "(column 5)"),  # characters, not UTF-8 bytes
    ("(x +\n  w.real)", "(line 2, column 3)"),
    ("é + $", "(column 5)"),
])
def test_positions_count_characters_from_one(text, where):
    with pytest.raises(ExpressionError, match=re.escape(where)):
        parse_expression(text, {"x": 1.0, "w": 2.0, "é": 3.0})


@pytest.mark.parametrize("text, fragment", [
    ("x" * (MAX_LENGTH + 1), "too long"),
    ("(" * 100_000, "too long"),
    ("(" * 4000 + "x" + ")" * 4000, "too many nested parentheses"),
    ("-" * 9000 + "x", "too deeply nested"),  # CPython's parser runs out of stack
    ("x+" * 4000 + "x", "too deeply nested"),  # ... or of recursion building the tree
    ("-" * (MAX_DEPTH + 50) + "x", f"nested more than {MAX_DEPTH} levels"),  # ours
    ("x+" * (MAX_DEPTH + 50) + "x", f"nested more than {MAX_DEPTH} levels"),
])
def test_huge_or_deep_text_is_refused(text, fragment):
    with pytest.raises(ExpressionError, match=fragment):
        parse_expression(text, {"x": 1.0})


def test_nesting_up_to_the_limit_is_fine():
    root, _ = parse_expression("sin(" * 150 + "x" + ")" * 150, {"x": 1.0})
    root.backward()  # backward is iterative too
    root, _ = parse_expression("+".join(["x"] * MAX_DEPTH), {"x": 1.0})
    assert root.data == MAX_DEPTH


def test_functions_are_the_engines():
    assert set(FUNCTIONS) == {"exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu",
                              "leaky_relu", "softplus", "abs", "erf", "max", "maximum", "min",
                              "minimum"}


# ----- command-line assignments -----

def test_assignments():
    assert parse_assignments(["x=2", "w=-3", " b = 6.88 ", "big=1e3", "n=-inf"]) == {
        "x": 2.0, "w": -3.0, "b": 6.88, "big": 1000.0, "n": -math.inf}
    assert parse_assignments([]) == {}


@pytest.mark.parametrize("items, fragment", [
    (["x"], "expected NAME=NUMBER, got 'x'"),
    (["=1"], "'' is not a valid variable name"),
    (["1x=2"], "'1x' is not a valid variable name"),
    (["x-y=1"], "not a valid variable name"),
    (["if=1"], "'if' is not a valid variable name"),
    (["__x=1"], "names starting with '__' are not allowed"),
    (["exp=1"], "'exp' is a function name"),
    (["max=1"], "'max' is a function name"),
    (["x=abc"], "'abc' is not a number (in 'x=abc')"),
    (["x="], "'' is not a number"),
    (["x=0x10"], "not a number"),
    (["x=1", "x=2"], "'x' is assigned twice"),
])
def test_bad_assignments(items, fragment):
    with pytest.raises(ExpressionError, match=re.escape(fragment)):
        parse_assignments(items)


def test_assigned_names_match_the_parsers_normalised_names():
    variables = parse_assignments(["ﬁ=2"])  # a ligature: Python reads the name as 'fi'
    root, leaves = parse_expression("ﬁ * 3", variables)
    assert root.data == 6.0 and list(leaves) == ["fi"]


# ----- properties -----

TOKENS = ["x", "w", "1", "2.5", "0", "1e309", "(", ")", "+", "-", "*", "/", "**", ",", " ",
          "exp", "log", "sqrt", "leaky_relu", "max", "min", "abs", ".", "_", "__class__",
          "[", "]", "lambda", ":", "=", ":=", " if ", " else ", " and ", "<", "@", "//",
          "%", "'", '"', "f'", "{", "}", "j", "True", "None", "\n", "\t", "#", "*x", "x="]


@pytest.mark.filterwarnings("ignore")  # numpy's overflow warnings; the parser's on escapes
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)))
def test_any_text_gives_a_value_or_an_expression_error(text):
    try:
        root, leaves = parse_expression(text, {"x": 0.5, "w": -2.0})
    except ExpressionError:
        return
    assert set(leaves) <= {"x", "w"}
    if root.requires_grad:
        root.backward()


def _graph_text(graph) -> str:
    """A drawn graph (``ags.graphs``) as one expression: every node written out in full."""
    texts = [f"x{i}" for i in range(len(graph.leaves))]
    symbols = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
    for name, *inputs in graph.program:
        args = [texts[i] for i in inputs]
        texts.append(f"({args[0]}) {symbols[name]} ({args[1]})" if name in symbols
                     else f"-({args[0]})" if name == "neg"
                     else f"{name}({', '.join(args)})")
    return " + ".join(f"({t})" for t in texts[len(graph.leaves):])  # Graph.run sums them so


@given(ags.graphs(max_ops=6))
def test_random_graphs_as_text_match_the_same_graph_built_directly(graph):
    text = _graph_text(graph)
    variables = {f"x{i}": x for i, x in enumerate(graph.leaves)}
    root, leaves = parse_expression(text, variables)
    direct_leaves, direct = graph.build()
    root.backward()
    direct.backward()
    assert root.data == pytest.approx(direct.data, rel=1e-12, abs=1e-12)
    assert root.data == pytest.approx(graph.evaluate(graph.leaves), rel=1e-9, abs=1e-12)
    for name, leaf in zip(variables, direct_leaves):
        got = leaves[name].grad if name in leaves else 0.0  # a leaf the text never reads
        assert got == pytest.approx(leaf.grad, rel=1e-9, abs=1e-12), (text, name)


# A grammar of its own, for what ags.graphs does not draw: constants, unary +, erf,
# leaky_relu with a slope, the max/min spellings. Trees are tuples; each knows its text,
# its value (math and numpy, no Values) and how near it comes to a kink or a domain edge.
NAMES = ("x", "w", "b")
SMOOTH = {"exp": np.exp, "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "erf": math.erf,
          "sigmoid": lambda a: 1 / (1 + np.exp(-a)), "softplus": lambda a: np.logaddexp(0, a)}
EDGED = {"log": (np.log, lambda a: a), "sqrt": (np.sqrt, lambda a: a),
         "relu": (lambda a: max(a, 0.0), abs), "abs": (abs, abs),
         "leaky_relu": (lambda a: a if a > 0 else 0.01 * a, abs)}
PAIRS = {"max": max, "maximum": max, "min": min, "minimum": min}
ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}

_numbers = st.floats(-3, 3, allow_nan=False).map(lambda c: round(c, 3))
_leaf = st.one_of(st.sampled_from(NAMES).map(lambda n: ("var", n)),
                  _numbers.map(lambda c: ("const", c)), st.integers(0, 4).map(lambda c: ("const", c)))


def _extend(tree):
    return st.one_of(
        st.tuples(st.sampled_from(["neg", "pos"]), tree),
        st.tuples(st.sampled_from(sorted(ARITHMETIC)), tree, tree),
        st.tuples(st.just("**"), tree, st.sampled_from([2, 3, -1, 0.5])),
        st.tuples(st.sampled_from(sorted(SMOOTH) + sorted(EDGED)), tree),
        st.tuples(st.just("leaky_relu2"), tree, st.floats(0, 0.5).map(lambda s: round(s, 2))),
        st.tuples(st.sampled_from(sorted(PAIRS)), tree, tree))


expressions = st.recursive(_leaf, _extend, max_leaves=12)


def _text(tree) -> str:
    kind, *rest = tree
    if kind == "var":
        return rest[0]
    if kind == "const":
        return f"({rest[0]!r})"
    if kind in ("neg", "pos"):
        return f"{'-' if kind == 'neg' else '+'}({_text(rest[0])})"
    if kind in ARITHMETIC:
        return f"({_text(rest[0])}) {kind} ({_text(rest[1])})"
    if kind == "**":
        return f"({_text(rest[0])}) ** ({rest[1]!r})"
    if kind == "leaky_relu2":
        return f"leaky_relu({_text(rest[0])}, {rest[1]!r})"
    return f"{kind}({', '.join(_text(t) for t in rest)})"


def _reference(tree, env) -> tuple[float, float]:
    """(value, margin): margin is how far the nearest op input is from a kink or edge of its
    domain (negative: outside it), or -1 when a value grows too large to check closely."""
    kind, *rest = tree
    if kind in ("var", "const"):  # numpy floats: overflow gives inf, not an exception
        return np.float64(env[rest[0]] if kind == "var" else rest[0]), math.inf
    a, margin = _reference(rest[0], env)
    if kind in ARITHMETIC or kind in PAIRS:
        b, margin_b = _reference(rest[1], env)
        margin = min(margin, margin_b, abs(b) if kind == "/" else math.inf,
                     abs(a - b) if kind in PAIRS else math.inf)
        value = ARITHMETIC[kind](a, b) if kind in ARITHMETIC else PAIRS[kind](a, b)
    elif kind in ("neg", "pos"):
        value = -a if kind == "neg" else a
    elif kind == "**":
        k = rest[1]
        margin = min(margin, abs(a) if k == -1 else a if k == 0.5 else math.inf)
        value = np.power(a, k) if margin > 0 else math.nan
    elif kind == "leaky_relu2":
        value, margin = (a if a > 0 else rest[1] * a), min(margin, abs(a))
    elif kind in SMOOTH:
        value = float(SMOOTH[kind](a))
    else:
        function, distance = EDGED[kind]
        margin = min(margin, distance(a))
        value = float(function(a)) if margin > 0 else math.nan
    return value, (margin if abs(value) < 1e4 else -1.0)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@given(expressions, st.tuples(*[st.floats(-3, 3) for _ in NAMES]))
def test_random_expressions_match_math_and_finite_differences(tree, values):
    env = dict(zip(NAMES, values))
    with np.errstate(all="ignore"):
        value, margin = _reference(tree, env)
    assume(margin > 1e-2)
    text = _text(tree)
    root, leaves = parse_expression(text, env)
    assert root.data == pytest.approx(value, rel=1e-9, abs=1e-12), text
    if not root.requires_grad:
        return
    root.backward()
    names = list(leaves)

    def rebuilt(*nodes):  # the same text, with the leaves finite differences move
        return parse_expression(text, {**env, **{n: v.data for n, v in zip(names, nodes)}})[0]

    expected = numerical_grad(rebuilt, [env[n] for n in names])
    for name, numeric in zip(names, expected):
        assert leaves[name].grad == pytest.approx(numeric, rel=1e-4, abs=1e-4), (text, name)
