"""The 32 KB frame guard, fed a raw byte stream in awkward chunks."""

import struct

from localgateway.frame_guard import FrameSizeGuard

from .support import client_frame as frame


class Recorder:
    def __init__(self):
        self.data = bytearray()

    def feed_data(self, data):
        self.data += data
        return False, b""

    def feed_eof(self):
        pass


def feed_in_chunks(guard, data, size):
    for start in range(0, len(data), size):
        guard.feed_data(data[start : start + size])


def test_frames_within_the_limit_pass_unchanged_whatever_the_chunking():
    stream = frame(0x1, b"a" * 100, fin=False) + frame(0x0, b"b" * 32768) + frame(0x9, b"ping")
    for chunk in (1, 3, 7, 1000, len(stream)):
        inner, violations = Recorder(), []
        feed_in_chunks(FrameSizeGuard(inner, 32768, violations.append), stream, chunk)
        assert bytes(inner.data) == stream
        assert violations == []


def test_an_oversized_frame_is_dropped_and_only_control_frames_follow():
    close = frame(0x8, struct.pack("!H", 1000))
    stream = frame(0x1, b"ok") + frame(0x1, b"x" * 32769) + frame(0x1, b"later") + close
    inner, violations = Recorder(), []
    feed_in_chunks(FrameSizeGuard(inner, 32768, violations.append), stream, 5)
    assert violations == [32769]
    assert bytes(inner.data) == frame_bytes_without_mask_check(stream, keep=[0, 3])


def frame_bytes_without_mask_check(stream, keep):
    """The frames of ``stream`` whose positions are in ``keep``, re-joined."""
    frames, position = [], 0
    while position < len(stream):
        second = stream[position + 1]
        size, header = second & 0x7F, 2
        if size == 126:
            size, header = struct.unpack("!H", stream[position + 2 : position + 4])[0], 4
        elif size == 127:
            size, header = struct.unpack("!Q", stream[position + 2 : position + 10])[0], 10
        end = position + header + 4 + size
        frames.append(stream[position:end])
        position = end
    return b"".join(f for i, f in enumerate(frames) if i in keep)
