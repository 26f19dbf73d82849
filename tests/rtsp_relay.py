"""A minimal RTSP relay on 127.0.0.1, for testing the monitor as an RTSP *client*.

A media server (MediaMTX, Wowza, a camera) takes a stream that a tool publishes (ANNOUNCE, SETUP,
RECORD) and hands it to readers (DESCRIBE, SETUP, PLAY). No such server installs from the registries
this project uses (MediaMTX is a Go binary outside them; GStreamer's RTSP server needs the system
Python's bindings), and FFmpeg's RTSP *muxer* cannot listen: ``rtsp_flags=listen`` is an option of
FFmpeg's RTSP *demuxer* only, which accepts a publisher (ANNOUNCE, RECORD) and never answers a
reader's DESCRIBE or PLAY (given to the muxer, the flag is ignored: PyAV's RTSP output still
connects out, and is refused when nobody listens). That is how the monitor listens itself, so the
test of the monitor as an RTSP server (test_rtsp_server_alerts) needs no relay: FFmpeg publishes
straight to it. Only the monitor as a *client* needs a server to pull from, and for that this relay
speaks the RTSP 1.0 subset the two FFmpeg ends use (RFC 2326, interleaved RTP over the TCP
connection, section 10.12), with FFmpeg's RTSP muxer as the publisher and the monitor's FFmpeg RTSP
demuxer as the reader: the packets on the wire are FFmpeg's own RTP (RFC 6184 H.264 packetisation),
and the relay copies them without looking inside. One path, one publisher, any number of readers.

A reader's DESCRIBE waits (up to ``describe_wait`` s) for a publisher, as servers that start a
source on demand do; without one it gets 404, and the client retries. When the publisher leaves
(TEARDOWN or a closed connection), the readers' connections are closed: the stream has ended.
"""

import socket
import threading
import uuid


class RtspRelay:
    def __init__(self, describe_wait: float = 5.0):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.describe_wait = describe_wait
        self.sdp: bytes | None = None
        self.published = threading.Event()
        self.readers: list[tuple[socket.socket, int]] = []  # connection, first interleaved channel
        self.lock = threading.Lock()
        self.publishers = 0
        self.requests: list[str] = []  # "METHOD role", for the test to check what was spoken
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str = "live") -> str:
        return f"rtsp://127.0.0.1:{self.port}/{path}"

    def close(self) -> None:
        self.closed = True
        self.server.close()
        self._drop_readers()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _drop_readers(self) -> None:
        with self.lock:
            readers, self.readers = self.readers, []
        for conn, _ in readers:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass

    def _serve(self, conn: socket.socket) -> None:
        session = uuid.uuid4().hex[:16]
        reader = _Reader(conn)
        role = "reader"
        channel = 0
        try:
            while True:
                item = reader.next()
                if item is None:
                    break
                if len(item) == 2:  # an interleaved frame: '$', channel, data
                    ch, data = item
                    if role == "publisher":
                        self._forward(ch, data)
                    continue  # a reader's RTCP receiver reports are ignored
                method, url, headers, body = item
                if method == "ANNOUNCE":
                    role = "publisher"
                self.requests.append(f"{method} {role}")
                cseq = headers.get("cseq", "0")
                extra: dict[str, str] = {}
                payload = b""
                status = "200 OK"
                if method == "OPTIONS":
                    extra["Public"] = (
                        "OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, TEARDOWN, GET_PARAMETER"
                    )
                elif method == "ANNOUNCE":
                    self.sdp = body
                elif method == "DESCRIBE":
                    if not self.published.wait(self.describe_wait) or self.sdp is None:
                        status = "404 Not Found"
                    else:
                        payload = self.sdp
                        extra["Content-Type"] = "application/sdp"
                        extra["Content-Base"] = url.rstrip("/") + "/"
                elif method == "SETUP":
                    transport = headers.get("transport", "")
                    if "interleaved=" not in transport:
                        status = "461 Unsupported Transport"  # TCP interleaved only
                    else:
                        channel = int(transport.split("interleaved=")[1].split("-")[0].split(";")[0])
                        extra["Transport"] = transport
                        extra["Session"] = f"{session};timeout=60"
                elif method == "RECORD":
                    self.publishers += 1
                    self.published.set()
                    extra["Session"] = session
                elif method == "PLAY":
                    extra["Session"] = session
                    extra["Range"] = "npt=0.000-"
                elif method in ("TEARDOWN", "GET_PARAMETER"):
                    extra["Session"] = session
                else:
                    status = "405 Method Not Allowed"
                conn.sendall(_reply(status, cseq, extra, payload))
                if method == "PLAY" and status.startswith("200"):
                    with self.lock:
                        self.readers.append((conn, channel))
                if method == "TEARDOWN":
                    break
        except OSError:
            pass
        finally:
            if role == "publisher":
                self.published.clear()
                self.sdp = None
                self._drop_readers()
            else:
                with self.lock:
                    self.readers = [(c, ch) for c, ch in self.readers if c is not conn]
            try:
                conn.close()
            except OSError:
                pass

    def _forward(self, channel: int, data: bytes) -> None:
        with self.lock:
            readers = list(self.readers)
        for conn, base in readers:
            # The publisher's channels 0 (RTP) and 1 (RTCP) become the reader's own pair.
            out = base + (channel % 2)
            try:
                conn.sendall(b"$" + bytes([out]) + len(data).to_bytes(2, "big") + data)
            except OSError:
                with self.lock:
                    self.readers = [(c, ch) for c, ch in self.readers if c is not conn]


def _reply(status: str, cseq: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"RTSP/1.0 {status}", f"CSeq: {cseq}", "Server: openmnr-test-relay"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class _Reader:
    """Splits what a connection sends into RTSP requests and interleaved frames."""

    def __init__(self, conn: socket.socket):
        self.conn = conn
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.conn.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _need(self, count: int) -> bool:
        while len(self.buffer) < count:
            if not self._fill():
                return False
        return True

    def next(self):
        if not self._need(1):
            return None
        if self.buffer[:1] == b"$":
            if not self._need(4):
                return None
            channel = self.buffer[1]
            length = int.from_bytes(self.buffer[2:4], "big")
            if not self._need(4 + length):
                return None
            data = self.buffer[4 : 4 + length]
            self.buffer = self.buffer[4 + length :]
            return channel, data
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return None
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("utf-8", "replace").split("\r\n")
        method, url, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if not self._need(length):
            return None
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return method, url, headers, body
