"""``python -m backprop``: the same as the ``backprop`` command."""

from backprop.cli import main

raise SystemExit(main())
