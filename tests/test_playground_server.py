"""``backprop playground`` as a user runs it: 127.0.0.1 only, a free port, the browser opened
unless --no-browser, and a clean stop on Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from backprop.cli import build_parser, main
from backprop.playground.frames import unpack
from backprop.playground.server import bind

ROOT = Path(__file__).resolve().parents[1]


def test_bind_listens_on_loopback_only_and_picks_a_free_port():
    sock = bind()
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1" and port > 0
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}.*another --port"):
            bind(port)
    finally:
        sock.close()
    for bad in (-1, 70000, "80", True):
        with pytest.raises(ValueError, match="port must be an integer from 0 to 65535"):
            bind(bad)


def test_the_command_has_port_and_no_browser_and_no_way_to_listen_elsewhere(capsys):
    args = build_parser().parse_args(["playground", "--port", "8123", "--no-browser"])
    assert args.port == 8123 and args.no_browser
    assert main(["playground", "--help"]) == 0
    text = capsys.readouterr().out
    assert "--port" in text and "--no-browser" in text and "--host" not in text
    assert main(["playground", "--port", "-3"]) == 2


def _start(tmp_path: Path, *flags: str) -> tuple[subprocess.Popen, str, Path]:
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), BROWSER=str(browser))
    proc = subprocess.Popen([sys.executable, "-m", "backprop", "playground", *flags],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
    return proc, match.group(0), opened


def test_the_server_opens_the_page_serves_it_and_stops_cleanly_on_ctrl_c(tmp_path):
    from websockets.sync.client import connect

    proc, url, opened = _start(tmp_path)
    try:
        deadline = time.monotonic() + 10
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert opened.read_text().strip() == url  # the browser was asked to open the page
        assert b"backprop playground" in urllib.request.urlopen(url, timeout=10).read()
        with connect(url.replace("http", "ws") + "ws", open_timeout=10) as ws:
            ws.send(json.dumps({"type": "hello", "hash": "#data=xor&hidden=4"}))
            ws.send(json.dumps({"type": "play"}))
            epochs = []
            while len(epochs) < 3 or epochs[-1] < 5:
                message = ws.recv(timeout=10)
                if isinstance(message, bytes):
                    epochs.append(unpack(message)[0]["epoch"])
            proc.send_signal(signal.SIGINT)  # Ctrl-C with a page open and training
            assert proc.wait(timeout=20) == 0
        assert "stopped" in proc.stderr.read()
        port = int(url.rsplit(":", 1)[1].strip("/"))
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_no_browser_opens_nothing_and_a_taken_port_is_a_one_line_error(tmp_path):
    proc, url, opened = _start(tmp_path, "--no-browser")
    try:
        port = url.rsplit(":", 1)[1].strip("/")
        assert urllib.request.urlopen(url + "static/style.css", timeout=10).status == 200
        second = subprocess.run([sys.executable, "-m", "backprop", "playground", "--no-browser",
                                 "--port", port], capture_output=True, text=True, timeout=60,
                                env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
        assert second.returncode == 2
        assert f"backprop: error: cannot listen on 127.0.0.1:{port}" in second.stderr
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert not opened.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
