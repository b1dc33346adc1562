"""``symbiosim app``: its argument parser and command (the CLI unit; the work is in ``serve``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from symbiosim import cli_args as t
from symbiosim.errors import SymbiosimError

port = t.integer(1, 65535, " (a TCP port)")


def cmd_app(args: argparse.Namespace) -> int:
    from symbiosim.app.page import DEFAULT_SCENARIO
    from symbiosim.app.serve import serve

    try:
        return serve(Path(args.scenario) if args.scenario else DEFAULT_SCENARIO, args.host, args.port)
    except SymbiosimError as exc:
        if type(exc) is not SymbiosimError:
            raise  # a ScenarioError: the CLI prints it, located, with exit code 2
        print(f"symbiosim app: {exc}", file=sys.stderr)
        return 2


def add_parser(sub: Any) -> None:
    p = sub.add_parser("app", help="serve the interactive web app (map, data, cases, runs, results) on this machine")
    p.add_argument("scenario", nargs="?", type=t.input_file, help="scenario to open (default: the bundled Orkanger scenario)")
    p.add_argument("--host", type=t.text, default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; another address exposes the app, which has no login)")
    p.add_argument("--port", type=port, default=8765, help="TCP port (default 8765)")
    p.set_defaults(func=cmd_app)
