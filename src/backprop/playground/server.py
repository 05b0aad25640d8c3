"""``serve``: run the playground on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import socket
import threading
import time
import warnings
import webbrowser
from collections.abc import Callable
from typing import Any

HOST = "127.0.0.1"


def bind(port: int | None = None) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (never another interface); port 0 or None picks a
    free one.

    Raises
    ------
    OSError
        The port is taken (the message says which and what to do).
    """
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                             or not 0 <= port <= 65535):
        raise ValueError(f"port must be an integer from 0 to 65535; got {port!r}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port or 0))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {HOST}:{port} ({exc.strerror}); choose another "
                      "--port, or leave it out for a free one") from None
    sock.listen(64)
    sock.setblocking(False)
    return sock


def serve(port: int | None = None, open_browser: bool = True,
          on_ready: Callable[[str], Any] | None = None) -> None:
    """Serve the playground at http://127.0.0.1:PORT/ until Ctrl-C (or SIGTERM).

    Parameters
    ----------
    port : int, optional
        A free port when left out.
    open_browser : bool
        Open the page in the default web browser once the server listens.
    on_ready : callable, optional
        Called with the page's address once the server listens (the command line prints it).
    """
    try:
        import uvicorn

        from .app import create_app
    except ImportError as exc:
        raise ImportError("the playground needs Starlette and uvicorn: pip install "
                          f"'backprop[playground]' ({exc})") from None
    from .. import PoorFitWarning

    # Each pause ends a fit, which warns when the network is no better than a constant; the
    # page's doctor says so already, and the terminal should not fill up with it.
    warnings.filterwarnings("ignore", category=PoorFitWarning)
    sock = bind(port)
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    # No per-message deflate: on loopback, compressing ~90 kB frames 30 times a second
    # would cost the event loop a sixth of a core and save nothing.
    config = uvicorn.Config(create_app(), log_level="warning", lifespan="off",
                            ws_max_size=16 * 2**20, ws_per_message_deflate=False,
                            timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.05)
        if server.started:
            if on_ready is not None:
                on_ready(url)
            if open_browser:
                webbrowser.open(url)

    threading.Thread(target=announce, name="playground-announce", daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
