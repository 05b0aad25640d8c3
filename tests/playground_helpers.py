"""Helpers shared by the playground's tests: talking to the WebSocket, CSV files, chromium."""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import numpy as np
import pytest

from backprop.playground.frames import unpack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


class Page:
    """A WebSocket to the playground as a page would use it (Starlette's TestClient)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.state: dict[str, Any] | None = None
        self.data: dict[str, Any] | None = None
        self.frame: tuple[dict[str, Any], dict[str, np.ndarray]] | None = None
        self.errors: list[dict[str, Any]] = []
        self.last_id = 0

    def send(self, message: Any) -> None:
        self.ws.send_text(message if isinstance(message, str) else json.dumps(message))

    def receive(self) -> dict[str, Any] | tuple[dict[str, Any], dict[str, np.ndarray]]:
        message = self.ws.receive()
        if message.get("bytes") is not None:
            self.frame = unpack(message["bytes"])
            return self.frame
        reply = json.loads(message["text"])
        if reply["type"] == "state":
            self.state = reply
        elif reply["type"] == "data":
            self.data = reply
        elif reply["type"] == "error":
            self.errors.append(reply)
        return reply

    def until(self, kind: str, limit: int = 2000) -> Any:
        """Read messages until one of type ``kind`` (not frames: a frame may come before the
        reply that announces its network; use ``current_frame``)."""
        for _ in range(limit):
            reply = self.receive()
            got = "frame" if isinstance(reply, tuple) else reply["type"]
            if got == kind:
                return reply
        raise AssertionError(f"no {kind!r} message in {limit} messages")

    def frame_where(self, test, limit: int = 3000) -> tuple[dict[str, Any], dict]:
        """The latest frame if its header passes ``test``, else the next one that does.

        (A frame may come before the reply to the message that caused it: the server sends
        frames and replies as each is ready.)"""
        if self.frame is not None and test(self.frame[0]):
            return self.frame
        for _ in range(limit):
            reply = self.receive()
            if isinstance(reply, tuple) and test(reply[0]):
                return reply
        raise AssertionError("no frame passed the test")

    def command(self, message: dict[str, Any], kind: str = "state") -> Any:
        """Send ``message`` and return its reply of type ``kind`` (matched by id)."""
        self.last_id += 1
        self.send({**message, "id": self.last_id})
        for _ in range(3000):
            reply = self.receive()
            if isinstance(reply, dict) and reply.get("id") == self.last_id:
                if reply["type"] == kind:
                    return reply
                if reply["type"] == "error" and kind != "error":
                    raise AssertionError(f"{message} got the error {reply['message']!r}")
        raise AssertionError(f"no {kind!r} reply to {message}")

    def hello(self, hash_: str = "") -> dict[str, Any]:
        return self.command({"type": "hello", "hash": hash_})

    def current_frame(self) -> tuple[dict[str, Any], dict]:
        """A frame of the current network (generation), however it raced its reply."""
        generation = self.state["generation"]
        return self.frame_where(lambda h: h["generation"] == generation)

    def settled_frame(self) -> tuple[dict[str, Any], dict]:
        """The frame of the current state once training has stopped."""
        generation = self.state["generation"]
        return self.frame_where(lambda h: h["generation"] == generation and not h["playing"]
                                and h["epoch"] == self.state["epoch"])


def labelled_csv(n: int = 120, classes: int = 3, seed: int = 0, extra: int = 1) -> str:
    """A CSV with feature columns a, b (the classes' centres differ there), ``extra`` noise
    columns and a word-labelled target column ``kind``."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % classes
    angle = 2 * np.pi * y / classes
    X = np.column_stack([3 * np.cos(angle), 3 * np.sin(angle)]) + rng.normal(0, 0.7, (n, 2))
    noise = rng.normal(10, 2, (n, extra))
    names = ["a", "b", *[f"c{k}" for k in range(extra)], "kind"]
    labels = ["alpha", "beta", "gamma", "delta", "eps"]
    rows = [",".join(names)]
    for i in range(n):
        rows.append(",".join(f"{v:.4f}" for v in [*X[i], *noise[i]]) + f",{labels[y[i]]}")
    return "\n".join(rows) + "\n"


def chromium_or_skip() -> str:
    """Debian's chromium: tests skip without it, except under CI, where they must run."""
    path = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("CI must run the playground's browser tests but chromium is missing; "
                        ".ci/run installs it with apt-get install -y chromium")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return path
