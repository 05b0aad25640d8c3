"""Byte-level helpers for tests that edit a safetensors file's JSON header."""

from __future__ import annotations

import json
import struct


def split(raw: bytes):
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


def join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def edit_header(raw: bytes, edit) -> bytes:
    header, body = split(raw)
    edit(header)
    return join(header, body)
