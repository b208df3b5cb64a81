"""The wire format: values round-trip; nothing else is accepted in either direction."""
import json

import numpy as np
import pytest

from grader.sandbox import wire


def roundtrip(value):
    return wire.decode(json.loads(json.dumps(wire.encode(value))))


def test_supported_values_round_trip():
    value = {"a": (1, 2.5, True, None, "s"), "b": [np.arange(6.0).reshape(2, 3)],
             "c": np.array([True, False]), "d": np.float32(1.5), "e": 10**30}
    back = roundtrip(value)
    assert back["a"] == (1, 2.5, True, None, "s") and back["e"] == 10**30
    assert back["b"][0].dtype == np.float64 and back["b"][0].shape == (2, 3)
    assert back["c"].tolist() == [True, False] and back["d"].shape == ()


def test_nan_and_inf_survive():
    back = roundtrip([float("nan"), np.array([np.inf, -np.inf])])
    assert np.isnan(back[0]) and back[1].tolist() == [np.inf, -np.inf]


@pytest.mark.parametrize("value, words", [
    (np.zeros(2).view(type("Sub", (np.ndarray,), {})), "Sub"),
    (type("F", (float,), {})(1.0), "F"),
    (np.array([object()]), "dtype object"),
    ({1: 2}, "int key"),
    (lambda: 0, "function"),
    (np.array([1 + 2j]), "complex"),
])
def test_other_types_are_refused_by_the_child(value, words):
    with pytest.raises(wire.Unsupported, match=words):
        wire.encode(value)


@pytest.mark.parametrize("node", [
    ["pickle", "gASVAAAA"], ["array", "|O", [1], "AA=="], ["array", "<f8", [2], "AAAA"],
    ["array", "<f8", [-1], ""], ["dict", [[1, ["none"]]]], ["int", "1e5"], "text", [], ["float", "1"],
])
def test_malformed_nodes_are_refused_by_the_grader(node):
    with pytest.raises(wire.WireError):
        wire.decode(node)


def test_nesting_is_bounded():
    node = ["none"]
    for _ in range(100):
        node = ["list", [node]]
    with pytest.raises(wire.WireError):
        wire.decode(node)


def test_arrays_travel_as_raw_bytes_after_the_json():
    from grader.sandbox.wire import BLOB
    value = {"a": np.arange(6.0).reshape(2, 3), "b": [np.array([True, False]), 3, "s"]}
    attachments = []
    frame = wire.dumps({"value": wire.encode(value, attachments)}, attachments)
    assert b"AAAA" not in frame and np.arange(6.0).tobytes() in frame  # not base64
    message = wire.parse(frame[wire.HEADER.size:])
    back = wire.decode(message["value"], message[BLOB])
    assert back["a"].tolist() == value["a"].tolist() and back["a"].flags.writeable
    assert back["b"][0].tolist() == [True, False] and back["b"][1:] == [3, "s"]


@pytest.mark.parametrize("node", [["array", "<f8", [4], 8], ["array", "<f8", [1], -1],
                                  ["array", "<f8", [2], 1.5]])
def test_raw_array_nodes_outside_their_bytes_are_refused(node):
    from grader.sandbox.wire import BLOB
    frame = wire.dumps({"value": node}, [np.zeros(2).tobytes()])
    message = wire.parse(frame[wire.HEADER.size:])
    with pytest.raises(wire.WireError):
        wire.decode(message["value"], message[BLOB])


def test_a_frame_cut_short_is_refused():
    with pytest.raises(wire.WireError):
        wire.parse(b"\0\0\0\0\x10{}")


@pytest.mark.parametrize("many", ['"ab"', "{}", "1", '{"k":0}'])
def test_a_frame_of_too_many_small_values_is_refused_before_parsing(many):
    """However the values are spelled (strings, empty objects, numbers), a frame that would
    hold millions of them is refused before any is made."""
    body = ('{"call":0,"junk":[' + ",".join([many] * (2 * wire.MAX_NODES + 1)) + "]}").encode()
    with pytest.raises(wire.WireError, match="more than about"):
        wire.parse(body)
    assert wire.parse(b'{"call":0,"value":["list",[' + b",".join([b'["int","1"]'] * 200_000)
                      + b"]]}")["call"] == 0  # 200,000 values in one answer pass


def test_arrays_cannot_take_the_same_bytes_twice():
    """Two nodes pointing at the same bytes would have the grader hold them twice: a frame of
    8 MB could otherwise ask for gigabytes."""
    blob = np.arange(4.0).tobytes()
    node = ["array", "<f8", [4], 0]
    assert wire.decode(["list", [node]], blob)[0].tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(wire.WireError):
        wire.decode(["list", [node, node]], blob)
    with pytest.raises(wire.WireError):
        wire.decode(["list", [["array", "<f8", [2], 0], ["array", "<f8", [3], 8]]], blob)


@pytest.mark.parametrize("node", [["float", 10 ** 400], ["array", "<f8", [0, 2 ** 64], ""],
                                  ["array", "<f8", [2 ** 40, 2 ** 40], 0]])
def test_numbers_and_shapes_that_cannot_be_built_are_malformed(node):
    with pytest.raises(wire.WireError):
        wire.decode(node, b"")


def test_lone_surrogates_are_mended_and_raw_ones_refused():
    """JSON may escape half of a surrogate pair alone, which no UTF-8 file can hold: such
    text becomes "?", a whole pair (an emoji) stays, and raw surrogate bytes are refused."""
    body = json.dumps({"call": 0, "out": "a\udc80b \U0001F600",
                       "value": ["dict", [["k\ud800", ["str", "x\udfff"]]]]}).encode()
    message = wire.parse(body)
    assert message["out"] == "a?b \U0001F600"
    assert wire.decode(message["value"]) == {"k?": "x?"}
    with pytest.raises(wire.WireError):
        wire.parse(b'{"call": 0, "out": "\xed\xa0\x80"}')


@pytest.mark.parametrize("body, words", [
    (b'{"call": 0, "out": "' + b"A" * (17 << 20) + b'"}', "more than 16 MB of JSON"),
    ('{"call": 0, "out": "A\U0001F600"}'.encode(), "not ASCII"),
    (b'{"call": 0, "x": [' + b",".join([b"9" * 4300] * 10) + b"]}", "more than 24 digits"),
])
def test_a_frame_is_refused_before_it_costs_the_grader(body, words):
    """A child's frame whose JSON is too large, not ASCII (one wide character makes Python
    hold its text at four bytes a character) or holds numbers slow to read."""
    with pytest.raises(wire.WireError, match=words):
        wire.parse(body)
    assert wire.parse(b'{"call": 123456789012, "value": ["int", "' + b"9" * 3000 + b'"]}')


def test_the_grader_s_own_frames_may_be_large():
    body = b'{"calls": [], "args": "' + b"A" * (17 << 20) + b'"}'
    assert len(wire.parse(body, limit=None)["args"]) == 17 << 20

