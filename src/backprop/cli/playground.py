"""``backprop playground``: the local web page where a network learns in front of you."""

from __future__ import annotations

import sys
from typing import Any


def playground(args: Any) -> int:
    """Serve the playground on 127.0.0.1 until Ctrl-C; exit status 0 when stopped so."""
    from ..playground import serve

    def ready(url: str) -> None:
        print(f"backprop playground: {url}  (Ctrl-C stops it)", flush=True)

    try:
        serve(port=args.port, open_browser=not args.no_browser, on_ready=ready)
    except KeyboardInterrupt:
        pass
    print("backprop playground: stopped", file=sys.stderr, flush=True)
    return 0
