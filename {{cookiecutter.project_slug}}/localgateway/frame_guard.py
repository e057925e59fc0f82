"""Enforce API Gateway's 32 KB limit per WebSocket frame.

aiohttp reassembles fragmented messages before the application sees them, so its
``max_msg_size`` can only limit whole messages (128 KB here). This guard sits in
front of aiohttp's frame parser, reads each frame header in the raw byte stream and,
when a data frame is larger than the limit, drops it and asks for the socket to be
closed with 1009. From then on only control frames (close, ping, pong) pass, so the
closing handshake still completes.
"""

import logging

logger = logging.getLogger(__name__)

_OPCODE_CLOSE = 0x8


def _header_length(header):
    """Full length of the frame header in ``header``, or None if not known yet."""
    if len(header) < 2:
        return None
    length_flag = header[1] & 0x7F
    masked = header[1] & 0x80
    extended = {126: 2, 127: 8}.get(length_flag, 0)
    return 2 + extended + (4 if masked else 0)


def _payload_length(header):
    length_flag = header[1] & 0x7F
    if length_flag == 126:
        return int.from_bytes(header[2:4], "big")
    if length_flag == 127:
        return int.from_bytes(header[2:10], "big")
    return length_flag


class FrameSizeGuard:
    """A pass-through parser that refuses data frames over ``max_frame_bytes``."""

    def __init__(self, inner, max_frame_bytes, on_oversized_frame):
        self._inner = inner
        self._max_frame_bytes = max_frame_bytes
        self._on_oversized_frame = on_oversized_frame
        self._header = bytearray()
        self._payload_left = 0
        self._forwarding = True
        self._violated = False

    def feed_eof(self):
        self._inner.feed_eof()

    def feed_data(self, data):
        passed = self._scan(bytes(data))
        if passed:
            return self._inner.feed_data(passed)
        return False, b""

    def _scan(self, data):
        out = bytearray()
        position, size = 0, len(data)
        while position < size:
            if self._payload_left:
                take = min(self._payload_left, size - position)
                if self._forwarding:
                    out += data[position : position + take]
                position += take
                self._payload_left -= take
                continue
            # Frame headers are at most 14 bytes: collecting them byte by byte is cheap.
            self._header.append(data[position])
            position += 1
            needed = _header_length(self._header)
            if needed is None or len(self._header) < needed:
                continue
            self._start_frame()
            if self._forwarding:
                out += self._header
            self._header.clear()
        return bytes(out)

    def _start_frame(self):
        opcode = self._header[0] & 0x0F
        payload_length = _payload_length(self._header)
        is_control = opcode >= _OPCODE_CLOSE
        if not is_control and not self._violated and payload_length > self._max_frame_bytes:
            self._violated = True
            logger.warning(
                "Closing a connection: frame of %d bytes exceeds the %d-byte frame limit",
                payload_length,
                self._max_frame_bytes,
            )
            self._on_oversized_frame(payload_length)
        self._forwarding = is_control or not self._violated
        self._payload_left = payload_length


def install(request, max_frame_bytes, on_oversized_frame):
    """Put a guard in front of the WebSocket parser of a prepared ``request``.

    Returns False (and the frame limit is not enforced) if this aiohttp version keeps
    its parser somewhere else.
    """
    protocol = request.protocol
    inner = getattr(protocol, "_payload_parser", None)
    if inner is None or not hasattr(inner, "feed_data"):
        logger.warning("This aiohttp version hides its WebSocket parser: the frame size limit is not enforced")
        return False
    protocol._payload_parser = FrameSizeGuard(inner, max_frame_bytes, on_oversized_frame)
    return True
