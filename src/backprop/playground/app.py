"""The web application: the page, its static files and one WebSocket per page.

Each WebSocket connection owns a :class:`~.session.Session`. Two tasks serve it: one reads
the page's messages and answers them (the work runs in a thread, so the event loop stays
free), the other sends the latest frame at most ``fps`` times a second. Frames are drawn
only when the trainer has published something new, and a frame that could not be sent in
time is simply replaced by the next one: a slow page sees fewer frames, never older ones,
and never slows the training.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from .session import Session

log = logging.getLogger("backprop.playground")

#: frames per second sent to each page (at most)
FPS = 30
#: open pages (sessions) at once; one more is refused with a message
MAX_SESSIONS = 16
LOCAL_HOSTS = ("127.0.0.1", "localhost")
#: the page fetches nothing from anywhere but this server
CSP = ("default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'")


def static_dir() -> Any:
    """The package's folder of static files (HTML, CSS, JavaScript)."""
    return resources.files("backprop.playground") / "static"


class _Connection:
    """One page: its session, and everything sent to it in one place."""

    def __init__(self, websocket: WebSocket, fps: float) -> None:
        self.websocket = websocket
        self.interval = 1.0 / fps
        self.loop = asyncio.get_running_loop()
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.session = Session(notify=self.post_threadsafe)

    def post_threadsafe(self, message: dict[str, Any]) -> None:
        try:
            self.loop.call_soon_threadsafe(self.outbox.put_nowait, message)
        except RuntimeError:  # the loop has closed: the page is gone anyway
            pass

    async def send_loop(self) -> None:
        """Replies as they come; between them, the newest frame once per interval."""
        loop, sent = self.loop, None
        next_frame = loop.time()
        while True:
            while not self.outbox.empty():
                await self.websocket.send_text(json.dumps(self.outbox.get_nowait()))
            wait = next_frame - loop.time()
            if wait > 0:
                try:
                    message = await asyncio.wait_for(self.outbox.get(), wait)
                except asyncio.TimeoutError:
                    pass
                else:
                    await self.websocket.send_text(json.dumps(message))
                    continue
            # A steady cadence: the next tick counts from this one, not from when the frame
            # is out (after a slow frame, no burst to catch up: at most one tick late).
            next_frame = max(next_frame + self.interval, loop.time())
            result = await self.next_frame(sent)
            if result is None:
                continue
            sent, frame = result
            if isinstance(frame, Exception):
                await self.websocket.send_text(json.dumps(
                    {"type": "error", "level": "error",
                     "message": f"drawing failed: {type(frame).__name__}: {frame}"}))
            elif frame is not None:
                await self.websocket.send_bytes(frame)

    async def next_frame(self, sent: int | None) -> tuple[int, Any] | None:
        """(seq, frame bytes) of the newest network state, or None if nothing is new.

        While training runs, the worker draws the frame at its next epoch end (see
        trainer.py); otherwise a thread draws the latest snapshot.
        """
        loop = self.loop
        done: asyncio.Future[tuple[int, Any]] = loop.create_future()

        def draw(snap: Any) -> None:  # in the worker thread, or in to_thread below
            try:
                frame = self.session.render(snap)
            except Exception as exc:  # noqa: BLE001 - reported to the page
                log.exception("playground: drawing a frame failed")
                frame = exc
            try:
                loop.call_soon_threadsafe(_settle, done, (snap.seq, frame))
            except RuntimeError:  # the event loop closed: the page is gone
                pass

        if not self.session.trainer.request(draw):
            snap = self.session.latest()
            if snap is None or snap.seq == sent:
                return None
            await asyncio.to_thread(draw, snap)
        return await done

    async def receive_loop(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                replies = [{"type": "error", "level": "error",
                            "message": "binary messages are not understood; send JSON text"}]
            else:
                replies = await asyncio.to_thread(self.session.handle, text)
            for reply in replies:
                self.outbox.put_nowait(reply)


def _settle(future: asyncio.Future, value: Any) -> None:
    if not future.done():
        future.set_result(value)


def create_app(allowed_hosts: tuple[str, ...] = LOCAL_HOSTS, fps: float = FPS) -> Starlette:
    """The playground's Starlette application.

    Parameters
    ----------
    allowed_hosts : tuple of str
        Host names the page may be reached by (the Host header, and the Origin of a
        WebSocket); anything else is refused, which keeps other web sites out.
    fps : float
        Frames per second sent to each page, at most.
    """
    sessions: set[_Connection] = set()

    async def index(request):
        return FileResponse(str(static_dir() / "index.html"),
                            headers={"Cache-Control": "no-store",
                                     "Content-Security-Policy": CSP})

    async def health(request):
        return JSONResponse({"sessions": len(sessions)})

    async def socket(websocket: WebSocket):
        origin = websocket.headers.get("origin")
        if origin is not None and urlsplit(origin).hostname not in allowed_hosts:
            await websocket.close(code=1008)
            return
        await websocket.accept()
        if len(sessions) >= MAX_SESSIONS:
            await websocket.send_text(json.dumps(
                {"type": "error", "level": "error", "message":
                 f"too many open playground pages ({MAX_SESSIONS}); close one and reload"}))
            await websocket.close(code=1013)
            return
        connection = _Connection(websocket, fps)
        sessions.add(connection)
        sender = asyncio.create_task(connection.send_loop())
        try:
            await connection.receive_loop()
        except WebSocketDisconnect:
            pass
        finally:
            sender.cancel()
            sessions.discard(connection)
            # Stop the worker from a plain thread: this task may itself be cancelled right
            # now (server shutting down), and an awaited executor job that has not started
            # yet would be cancelled with it, leaving the worker training on its own.
            threading.Thread(target=connection.session.close, name="playground-close",
                             daemon=True).start()

    routes = [
        Route("/", index),
        Route("/health", health),
        WebSocketRoute("/ws", socket),
        Mount("/static", StaticFiles(directory=str(static_dir())), name="static"),
    ]
    hosts = [*allowed_hosts]
    return Starlette(routes=routes,
                     middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)])
