"""The wire format between the grader and a sandboxed child: length-prefixed frames whose
values are tagged nodes of a closed set of types (None, bool, int, float, str, numeric NumPy
arrays, lists, tuples, dicts with string keys). A frame is a JSON object, or (starting with a
zero byte) a JSON object followed by raw bytes, which its array nodes (or other entries, such as
the student's files sent to a child) locate by offset: the child's answers travel that way, with
no base64 to encode or decode.
Decoding never runs code: nothing is unpickled, no class is looked up by name, and every node is
checked for type, dtype, shape and size. What a child's frame may cost the grader is bounded
before it is parsed (the size and characters of its JSON, its number of values, the digits of
its numbers) and while it is decoded (its nesting, the bytes its arrays take, the length of dict
keys); text no file can hold (a lone surrogate) is mended.
"""
from __future__ import annotations

import base64
import json
import math
import os
import re
import struct

import numpy as np

HEADER = struct.Struct(">I")
MAX_DEPTH = 32
MAX_NODES = 1_000_000  # per frame: more small values than that cost the grader too much memory
MAX_KEY = 200          # characters of a dict key kept; longer keys are cut
MAX_JSON = 16 << 20    # bytes of a frame's JSON (its arrays' raw bytes are not counted)
MAX_DIGITS = 24        # of a JSON number (call ids, offsets, shapes: a large int is a string)
_DTYPES = {np.dtype(t).str: np.dtype(t) for t in (
    "?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8")}
_SCALARS = (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
            np.uint64, np.float16, np.float32, np.float64)


BLOB = object()  # the key of a parsed frame's raw bytes (no JSON key can be it)


class WireError(Exception):
    """A frame or value that does not follow the wire format."""


class Unsupported(WireError):
    """A value of a type that cannot cross the wire (the student's return type)."""


def encode(value, attachments: list | None = None, depth: int = 0):
    """A value as a JSON-ready node. Only exact built-in and NumPy types are accepted:
    subclasses (which could override __eq__ or __array__) are refused. Given `attachments`, an
    array's bytes are appended there (for `dumps`) and its node holds their offset; otherwise
    they are inline, in base64."""
    if depth > MAX_DEPTH:
        raise Unsupported(f"nested more than {MAX_DEPTH} levels deep")
    kind = type(value)
    if value is None:
        return ["none"]
    if kind is bool or kind is np.bool_:
        return ["bool", bool(value)]
    if kind is int:
        return ["int", str(value)]
    if kind is float:
        return ["float", value]
    if kind is str:
        return ["str", value]
    if kind in _SCALARS:
        return encode(np.asarray(value), attachments, depth)
    if kind is np.ndarray:
        if value.dtype.str not in _DTYPES:
            raise Unsupported(f"a NumPy array of dtype {value.dtype}")
        data = np.ascontiguousarray(value).tobytes()
        if attachments is None:
            return ["array", value.dtype.str, list(value.shape),
                    base64.b64encode(data).decode("ascii")]
        offset = sum(len(a) for a in attachments) if attachments else 0
        attachments.append(data)
        return ["array", value.dtype.str, list(value.shape), offset]
    if kind is list or kind is tuple:
        return [kind.__name__, [encode(v, attachments, depth + 1) for v in value]]
    if kind is dict:
        items = []
        for key, item in value.items():
            if type(key) is not str:
                raise Unsupported(f"a dict with a {type(key).__name__} key")
            items.append([key, encode(item, attachments, depth + 1)])
        return ["dict", items]
    raise Unsupported(f"a {kind.__module__}.{kind.__qualname__}"
                      if kind.__module__ != "builtins" else f"a {kind.__name__}")


def decode(node, blob: bytes | memoryview = b""):
    """The value a node stands for (`blob`: the raw bytes its frame carried); raises WireError
    on anything malformed. The arrays of one value take at most the bytes of `blob` between
    them: nodes pointing at the same bytes again cannot multiply what the grader holds."""
    room = [len(blob)]
    try:
        return _decode(node, blob, 0, room)
    except (OverflowError, ValueError, MemoryError) as exc:  # absurd numbers or shapes
        raise WireError(f"a value that cannot be built ({type(exc).__name__})") from None


def _decode(node, blob, depth: int, room: list[int]):
    if depth > MAX_DEPTH or not isinstance(node, list) or not node or not isinstance(node[0], str):
        raise WireError("malformed node")
    tag, rest = node[0], node[1:]
    if tag == "none" and not rest:
        return None
    if len(rest) == 1:
        (body,) = rest
        if tag == "bool" and isinstance(body, bool):
            return body
        if tag == "int" and isinstance(body, str) and len(body) < 4000:
            try:
                return int(body)
            except ValueError:
                raise WireError("malformed int") from None
        if tag == "float" and type(body) in (float, int):
            return float(body)
        if tag == "str" and isinstance(body, str):
            return body
        if tag in ("list", "tuple") and isinstance(body, list):
            items = [_decode(v, blob, depth + 1, room) for v in body]
            return items if tag == "list" else tuple(items)
        if tag == "dict" and isinstance(body, list):
            out = {}
            for pair in body:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)):
                    raise WireError("malformed dict item")
                key = pair[0] if len(pair[0]) <= MAX_KEY else pair[0][:MAX_KEY] + "..."
                out[key] = _decode(pair[1], blob, depth + 1, room)
            return out
    if tag == "array" and len(rest) == 3:
        dtype, shape, data = rest
        if dtype not in _DTYPES or not isinstance(shape, list) or len(shape) > 32 \
                or not all(type(n) is int and n >= 0 for n in shape) \
                or not (isinstance(data, str) or type(data) is int and data >= 0):
            raise WireError("malformed array")
        size = math.prod(shape) * _DTYPES[dtype].itemsize
        if type(data) is int:  # raw bytes carried after the frame's JSON
            room[0] -= size
            if data + size > len(blob) or room[0] < 0:
                raise WireError("array data does not match its shape")
            return np.frombuffer(blob, dtype=_DTYPES[dtype], count=math.prod(shape),
                                 offset=data).reshape(shape).copy()  # writable, and its own
        try:
            raw = base64.b64decode(data.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raise WireError("malformed array data") from None
        if len(raw) != size:
            raise WireError("array data does not match its shape")
        return np.frombuffer(raw, dtype=_DTYPES[dtype]).reshape(shape).copy()  # writable
    raise WireError(f"unknown or malformed node '{tag}'")


def dumps(message: dict, attachments: list | None = None) -> bytes:
    """A frame: the message as JSON, followed by the raw bytes of `attachments` if any."""
    body = json.dumps(message, separators=(",", ":")).encode("utf-8")
    if attachments:
        blob = b"".join(attachments)
        return HEADER.pack(1 + HEADER.size + len(body) + len(blob)) + b"\0" \
            + HEADER.pack(len(body)) + body + blob
    return HEADER.pack(len(body)) + body


def write(fd: int, frame: bytes) -> None:
    data = memoryview(frame)
    while data:
        data = data[os.write(fd, data):]


def send(fd: int, message: dict) -> None:
    write(fd, dumps(message))


def receive(fd: int) -> dict:
    """The next frame on `fd`, parsed (for a side that reads without a deadline: the zygote
    and a child, reading what the grader sends them)."""
    size = HEADER.unpack(read_exactly(fd, HEADER.size))[0]
    return parse(read_exactly(fd, size), limit=None)


def read_exactly(fd: int, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _short_int(digits: str) -> int:
    if len(digits) > MAX_DIGITS:
        raise WireError(f"a number of more than {MAX_DIGITS} digits")
    return int(digits)


_DECODER = json.JSONDecoder(parse_int=_short_int)  # made once: a frame's JSON is ASCII


def _mended(text: str) -> str:
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:  # a lone surrogate (a pair was joined by the JSON reader)
        return text.encode("utf-8", "replace").decode("utf-8")


def mend_text(message: dict) -> None:
    """Replace, in place, each lone surrogate in the strings and keys of a parsed frame (or any
    nest of dicts and lists) by "?": no file, page or terminal the grader writes can hold one."""
    stack: list = [message]
    while stack:
        container = stack.pop()
        if isinstance(container, list):
            for index, item in enumerate(container):
                if isinstance(item, str):
                    container[index] = _mended(item)
                elif isinstance(item, (list, dict)):
                    stack.append(item)
            continue
        for key in list(container):
            item = container[key]
            if isinstance(item, str):
                item = container[key] = _mended(item)
            elif isinstance(item, (list, dict)):
                stack.append(item)
            mended = _mended(key) if isinstance(key, str) else key
            if mended != key:
                container[mended] = container.pop(key)


def parse(body: bytes, *, limit: int | None = MAX_JSON) -> dict:
    """A frame's JSON object, its raw bytes (if any) under the key BLOB; refused before parsing
    when it would cost the grader too much (`limit`: bytes of JSON; None for the grader's own
    frames, which may carry a course's large arguments)."""
    blob = b""
    if body[:1] == b"\0":
        if len(body) < 1 + HEADER.size:
            raise WireError("a frame cut short")
        size = HEADER.unpack_from(body, 1)[0]
        start = 1 + HEADER.size
        if start + size > len(body):
            raise WireError("a frame cut short")
        blob = memoryview(body)[start + size:]
        body = body[start:start + size]
    # What the grader builds from a frame's JSON is bounded before it is parsed: its size
    # (arrays travel as raw bytes, beside it), its characters (ASCII, as json.dumps writes
    # them: text with one wide character would take four bytes a character), its number of
    # values (each follows a "," "[" "{" or ":", some of which may lie inside strings, which
    # only makes the count larger) and the digits of its numbers (a long one is slow to read;
    # a large int travels as a string).
    if limit is not None and len(body) > limit:
        raise WireError(f"a frame of more than {limit >> 20} MB of JSON")
    if not body.isascii():
        raise WireError("a frame whose JSON is not ASCII")
    if len(body) > 2 * MAX_NODES \
            and sum(body.count(c) for c in (b",", b"[", b"{", b":")) > 2 * MAX_NODES:
        raise WireError(f"a frame with more than about {MAX_NODES} values")
    try:
        message = _DECODER.decode(body.decode("ascii"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"a frame that is not JSON ({exc.__class__.__name__})") from None
    if not isinstance(message, dict):
        raise WireError("a frame that is not a JSON object")
    if _SURROGATE.search(body):  # escaped, possibly lone: text the grader could not write
        mend_text(message)
    if blob:
        message[BLOB] = blob
    return message
