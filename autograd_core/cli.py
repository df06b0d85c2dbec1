"""The ``autograd-core`` command (also ``python -m autograd_core``)."""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

RENDER_EXAMPLE = 'autograd-core render "tanh(x*w + b)" x=2 w=-3 b=6.88 -o graph.svg'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="autograd-core", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo_parser = commands.add_parser(
        "demo", help="fit the lecture's toy model with Values, then train an MLP on two moons")
    demo_parser.add_argument("--output-dir", default="autograd-core-demo", metavar="DIR",
                             help="where to write the pictures (default: ./autograd-core-demo)")
    _add_render_parser(commands)
    # parse_known_args, so that NAME=VALUE words may also come after render's options
    args, extra = parser.parse_known_args(argv)
    if extra and args.command == "render" and all(_is_assignment(word) for word in extra):
        args.assignments += extra
    elif extra:  # what parse_args would have said
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "demo":
        from . import demo
        return demo.main(args)
    if args.command == "render":
        return render(args)
    return 2


def _add_render_parser(commands) -> None:
    render = commands.add_parser(
        "render", help="draw the graph of an expression, with its gradients",
        description="Build an expression from Values, back-propagate, print the result and "
                    "each variable's gradient, and draw the graph.",
        epilog=f"example: {RENDER_EXAMPLE}. Functions: exp, log, sqrt, sin, cos, tanh, "
               f"sigmoid, relu, leaky_relu, softplus, abs, erf, max, min. An expression "
               f'that starts with "-" needs a space before it: " -x*w".')
    render.add_argument("expression", help='e.g. "tanh(x*w + b)"')
    render.add_argument("assignments", nargs="*", metavar="NAME=VALUE",
                        help="the value of each variable, e.g. x=2 w=-3")
    render.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="the drawing to write (graph.svg, graph.png)")
    render.add_argument("--format", choices=("svg", "png"),
                        help="the drawing's format (default: from the suffix of -o, else svg)")
    render.add_argument("--rankdir", choices=("LR", "TB"), default="LR",
                        help="lay the graph out left to right (LR, default) or top to bottom")
    render.add_argument("--animate", metavar="PATH",
                        help="also write the backward pass, step by step, as an HTML page")


def _is_assignment(word: str) -> bool:
    return "=" in word and not word.startswith("-")


def render(args) -> int:
    """``autograd-core render``: 0, or 2 with a one-line message when something is wrong."""
    try:
        from viz.expression import parse_assignments, parse_expression
        variables = parse_assignments(args.assignments)
        root, leaves = parse_expression(args.expression, variables)
        format = args.format or _format_of(args.output)
        import viz  # only now: drawing needs graphviz, parsing does not
    except (ValueError, ImportError) as error:  # ExpressionError is a ValueError
        return _fail(error)

    if root.requires_grad:
        # retain_graph: the animation may run the backward pass again
        root.backward(retain_graph=True)
    print(f"{' '.join(args.expression.split())} = {root.data:.6g}")
    width = max((len(name) for name in leaves), default=0)
    for name, leaf in leaves.items():
        print(f"  {name:<{width}} = {leaf.data:<10.6g} grad {leaf.grad:.6g}")
    for name in variables:
        if name not in leaves:
            print(f"note: {name} is not used in the expression", file=sys.stderr)

    try:
        # Both made, then both written to temporary files beside their targets, and only
        # then moved into place: a failure leaves no file, and no file it would replace lost
        contents = [(args.output, viz.draw_dot(root, rankdir=args.rankdir).pipe(format))]
        if args.animate:
            animation = viz.animate_backward(root, rankdir=args.rankdir)
            contents.append((args.animate, animation.html().encode("utf-8")))
        for path in _write_all(contents):
            print(f"wrote {path}")
    except (RuntimeError, OSError, ValueError) as error:
        # RuntimeError: no Graphviz, or it failed (viz's message says what to install);
        # OSError: a file cannot be written; ValueError: a graph too big to animate
        return _fail(error)
    return 0


def _write_all(contents) -> list[str]:
    """Write each ``(path, bytes)``, all or none; returns the paths."""
    temporary = []
    try:
        for path, data in contents:
            try:
                handle, temp_path = tempfile.mkstemp(
                    dir=os.path.dirname(os.path.abspath(path)), prefix=".render.", suffix=".tmp")
                temporary.append(temp_path)
                with os.fdopen(handle, "wb") as file:
                    file.write(data)
            except OSError as error:  # named by the user's path, not the temporary one
                raise OSError(f"cannot write {path}: {error.strerror or error}") from None
    except BaseException:
        for temp_path in temporary:
            os.remove(temp_path)
        raise
    for (path, _), temp_path in zip(contents, temporary):
        os.chmod(temp_path, 0o644 & ~_umask())  # mkstemp makes it private; a drawing is not
        os.replace(temp_path, path)
    return [path for path, _ in contents]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _format_of(path: str) -> str:
    from viz.render import format_of  # the library's rule, limited to --format's choices
    try:
        return format_of(path, formats=("svg", "png"))
    except ValueError as error:
        raise ValueError(f"{error}; use --format svg or --format png") from None


def _fail(error) -> int:
    message = " ".join(str(error).split())  # one line, whatever the error had
    print(f"autograd-core render: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
