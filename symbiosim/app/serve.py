"""``symbiosim app``: serve the web app (a Solara server in a child process).

The server runs ``solara run symbiosim.app.page`` with the scenario named in
an environment variable, from the app's own working folder (so a stray
``.env`` file in the user's folder is not read), with Solara's update check
and usage telemetry off (a policy researcher's cluster data and usage stay
on the machine) and its front-end assets served from the ``solara-assets``
package (no CDN: the app works offline).
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

from symbiosim.errors import SymbiosimError

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def command(host: str = LOOPBACK, port: int = 8765) -> list[str]:
    return [sys.executable, "-m", "solara", "run", "symbiosim.app.page", "--host", host, "--port", str(int(port)),
            "--production", "--no-open", "--no-check-version", "--log-level", "warning"]


def environment(scenario: Path) -> dict[str, str]:
    from symbiosim.app.page import SCENARIO_ENV

    return {**os.environ, SCENARIO_ENV: str(scenario), "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
            "PYTHONUNBUFFERED": "1"}


def check_installed() -> None:
    try:
        import ipyleaflet  # noqa: F401
        import solara  # noqa: F401
        import solara_assets  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as exc:
        raise SymbiosimError(f"the web app needs its extra packages ({exc.name} is missing): "
                             "pip install -c requirements/constraints.txt -e '.[app]'  (or: make app)") from None


def serve(scenario: Path, host: str = LOOPBACK, port: int = 8765) -> int:
    """Check the scenario, then run the server until Ctrl-C; returns its exit code."""
    from symbiosim.app.session import workdir
    from symbiosim.scenario.load import load_scenario

    check_installed()
    load_scenario(scenario)  # a bad file is reported here, as `validate` would, before any server starts
    if not is_loopback(host):
        print(f"symbiosim app: listening on {host}: anyone who can reach this address can use the app "
              "and the scenario in it (there is no login)", file=sys.stderr)
    print(f"symbiosim app: http://{'localhost' if is_loopback(host) else host}:{port}/  ({scenario}; Ctrl-C stops it)",
          file=sys.stderr)
    try:
        return subprocess.call(command(host, port), env=environment(scenario.resolve()), cwd=workdir())
    except KeyboardInterrupt:
        return 130
