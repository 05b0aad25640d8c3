"""The playground: a local web page where a real network learns while you watch and steer.

``backprop playground`` (or :func:`serve`) starts a server on 127.0.0.1 and opens the page.
The page is TensorFlow Playground's, on this library's engine: the network trains in a
worker thread with ``fit`` (:mod:`.trainer`), the page receives frames at a steady rate
(:mod:`.frames`), and every setting lives in the URL hash (:mod:`.config`).

Modules: ``config`` (settings, URL hash), ``data`` (the 2-D sets, features, CSV uploads),
``network`` (configuration → engine objects), ``trainer`` (the worker thread), ``frames``
(what the page draws), ``snippet`` (the exported Python), ``session`` (one page's state and
commands), ``app`` (Starlette: page, static files, WebSocket) and ``server`` (uvicorn).
Only ``app`` and ``server`` need Starlette and uvicorn (``pip install 'backprop[playground]'``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["serve", "create_app"]


def serve(port: int | None = None, open_browser: bool = True, on_ready: Any = None) -> None:
    """Serve the playground on http://127.0.0.1:PORT/ until Ctrl-C; see :func:`.server.serve`."""
    from .server import serve as _serve

    _serve(port=port, open_browser=open_browser, on_ready=on_ready)


def create_app(**kwargs: Any) -> Any:
    """The Starlette application (for tests and embedding); see :func:`.app.create_app`."""
    try:
        from .app import create_app as _create_app
    except ImportError as exc:
        raise ImportError("the playground needs Starlette and uvicorn: pip install "
                          f"'backprop[playground]' ({exc})") from None
    return _create_app(**kwargs)
