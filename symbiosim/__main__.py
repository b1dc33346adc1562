"""``python -m symbiosim``: the same as the ``symbiosim`` command."""

from symbiosim.cli import main

raise SystemExit(main())
