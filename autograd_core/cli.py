"""The ``autograd-core`` command (also ``python -m autograd_core``)."""
from __future__ import annotations

import argparse


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="autograd-core", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="fit the lecture's toy model with Values, then train an MLP on two moons")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from . import demo
        return demo.main(args)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
