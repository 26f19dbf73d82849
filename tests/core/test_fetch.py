"""The safe fetcher: it never talks to a non-public address, and it fetches real pages correctly.

Name resolution is always faked (no DNS query leaves the machine) and the socket dialer is replaced by
a recorder that lets through only 127.0.0.1, where these tests run their own servers; the refusal
tests assert that nothing was dialed at all.
"""

import datetime
import io
import ipaddress
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import av
import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

from openmnr.core.fetch import (
    MAX_REDIRECTS,
    BadScheme,
    BadURL,
    BlockedAddress,
    FetchTimeout,
    ResolveError,
    TooLarge,
    TooManyRedirects,
    TransportError,
    fetch,
    is_public_address,
    sniff_type,
)

LOCAL = frozenset({"127.0.0.1"})
REAL_CREATE_CONNECTION = socket.create_connection


class FakeDNS:
    """Stands in for socket.getaddrinfo: answers from a table (an IP literal answers itself)."""

    def __init__(self):
        self.answers: dict[str, list[str]] = {}
        self.asked: list[str] = []

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        self.asked.append(host)
        if host in self.answers and not self.answers[host]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        infos = []
        for address in self.answers.get(host, [host]):
            ip = ipaddress.ip_address(address)
            if ip.version == 6:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos


class Dialer:
    """Stands in for socket.create_connection: records every address; only 127.0.0.1 is really dialed."""

    def __init__(self):
        self.dialed: list[tuple] = []
        self.failure: Exception | None = None

    def __call__(self, address, timeout=None, *args, **kwargs):
        self.dialed.append(address)
        if self.failure is not None:
            raise self.failure
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"test dialer refuses {address}")
        return REAL_CREATE_CONNECTION(address, timeout, *args, **kwargs)


@pytest.fixture
def net(monkeypatch):
    dns, dialer = FakeDNS(), Dialer()
    monkeypatch.setattr(socket, "getaddrinfo", dns)
    monkeypatch.setattr(socket, "create_connection", dialer)
    return SimpleNamespace(dns=dns, dialer=dialer)


# Every class of address that must never be reached, with why.
NON_PUBLIC = [
    ("10.0.0.1", "private 10/8"),
    ("10.255.255.254", "private 10/8"),
    ("172.16.0.1", "private 172.16/12"),
    ("172.31.255.254", "private 172.16/12"),
    ("192.168.1.1", "private 192.168/16"),
    ("127.0.0.1", "loopback"),
    ("127.8.9.10", "loopback 127/8"),
    ("169.254.169.254", "link-local (cloud metadata)"),
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "this network 0/8"),
    ("100.64.0.1", "shared address space (CGNAT) 100.64/10"),
    ("100.127.255.254", "shared address space (CGNAT) 100.64/10"),
    ("224.0.0.1", "multicast 224/4"),
    ("239.255.255.250", "multicast 224/4"),
    ("240.0.0.1", "reserved 240/4"),
    ("255.255.255.255", "broadcast"),
    ("192.0.0.8", "IETF protocol assignments"),
    ("192.0.2.1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("::1", "IPv6 loopback"),
    ("::", "IPv6 unspecified"),
    ("fe80::1", "IPv6 link-local fe80::/10"),
    ("fc00::1", "IPv6 unique local fc00::/7"),
    ("fd12:3456::1", "IPv6 unique local fc00::/7"),
    ("fec0::1", "IPv6 site-local (deprecated)"),
    ("ff02::1", "IPv6 multicast"),
    ("2001:db8::1", "IPv6 documentation"),
    ("2001::1", "Teredo"),
    ("::ffff:127.0.0.1", "IPv4-mapped loopback"),
    ("::ffff:10.0.0.1", "IPv4-mapped private"),
    ("::ffff:169.254.169.254", "IPv4-mapped link-local"),
    ("::7f00:1", "IPv4-compatible loopback"),
    ("64:ff9b::a00:1", "NAT64 of 10.0.0.1"),
    ("64:ff9b::7f00:1", "NAT64 of 127.0.0.1"),
    ("64:ff9b::a9fe:a9fe", "NAT64 of 169.254.169.254"),
    ("64:ff9b:1::a00:1", "local-use NAT64"),
    ("2002:7f00:1::1", "6to4 of 127.0.0.1"),
    ("2002:c0a8:101::1", "6to4 of 192.168.1.1"),
]


@pytest.mark.parametrize(("address", "why"), NON_PUBLIC)
def test_a_name_resolving_to_a_non_public_address_is_refused_before_connecting(net, address, why):
    net.dns.answers["reported.example"] = [address]
    with pytest.raises(BlockedAddress) as caught:
        fetch("http://reported.example/page")
    assert net.dialer.dialed == [], why
    assert caught.value.address == ipaddress.ip_address(address)
    assert caught.value.log[-1].ip == str(ipaddress.ip_address(address))


@pytest.mark.parametrize(("address", "why"), NON_PUBLIC)
def test_a_non_public_address_written_in_the_url_is_refused(net, address, why):
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(BlockedAddress):
        fetch(f"https://{host}:8443/")
    assert net.dialer.dialed == [], why


@pytest.mark.parametrize(
    "spelling", ["http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/"]
)
def test_odd_spellings_of_loopback_are_refused(net, spelling):
    with pytest.raises(BlockedAddress):
        fetch(spelling)
    assert net.dialer.dialed == []


def test_one_non_public_address_among_public_ones_refuses_the_host(net):
    net.dns.answers["mixed.example"] = ["93.184.215.14", "10.0.0.7"]
    with pytest.raises(BlockedAddress):
        fetch("http://mixed.example/")
    assert net.dialer.dialed == []


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_dialed_directly_not_by_name(net, address):
    net.dns.answers["public.example"] = [address]
    with pytest.raises(TransportError):  # the test dialer refuses: no packet leaves
        fetch("http://public.example/")
    assert [dialed[0] for dialed in net.dialer.dialed] == [address]
    assert net.dns.asked == ["public.example"]


def test_every_address_is_tried_in_turn(net):
    net.dns.answers["dual.example"] = ["2606:4700::6810:1", "104.16.0.1"]
    with pytest.raises(TransportError):
        fetch("https://dual.example/")
    assert net.dialer.dialed == [("2606:4700::6810:1", 443), ("104.16.0.1", 443)]


def test_a_connect_timeout_is_a_typed_error(net):
    net.dns.answers["slow.example"] = ["93.184.215.14"]
    net.dialer.failure = TimeoutError("timed out")
    with pytest.raises(FetchTimeout):
        fetch("http://slow.example/", connect_timeout=0.1)


def test_an_unknown_name_is_a_typed_error(net):
    net.dns.answers["nowhere.example"] = []
    with pytest.raises(ResolveError):
        fetch("http://nowhere.example/")
    assert net.dialer.dialed == []


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.jpg", "file:///etc/passwd", "javascript:alert(1)", "gopher://x/"]
)
def test_other_schemes_are_refused(net, url):
    with pytest.raises(BadScheme):
        fetch(url)
    assert net.dns.asked == [] and net.dialer.dialed == []


@pytest.mark.parametrize("url", ["http://", "http://exa mple.com/", "http://example.com:99999/"])
def test_malformed_urls_are_refused(net, url):
    with pytest.raises(BadURL):
        fetch(url)
    assert net.dialer.dialed == []


def test_is_public_address_lets_the_public_internet_through():
    for address in ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1", "64:ff9b::101:101"]:
        assert is_public_address(ipaddress.ip_address(address)), address


# ---- Real fetches from a server on 127.0.0.1 ----------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, status, body, content_type="application/octet-stream", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        parts = url.path.strip("/").split("/")
        self.server.seen.append((self.path, self.headers.get("Host")))
        match parts:
            case ["image.jpg"]:
                # Mislabelled on purpose: the sniffed type must still say JPEG.
                self.send(200, self.server.jpeg, "text/plain")
            case ["page"]:
                self.send(200, b"<!DOCTYPE html><html><body><img src=a.jpg></body></html>")
            case ["missing"]:
                self.send(404, b"not here", "text/plain")
            case ["host"]:
                self.send(200, self.headers["Host"].encode(), "text/plain")
            case ["redirect", count]:
                target = f"/redirect/{int(count) - 1}" if int(count) > 0 else "/image.jpg"
                self.send(302, b"", headers=[("Location", target)])
            case ["to"]:
                self.send(301, b"", headers=[("Location", parse_qs(url.query)["url"][0])])
            case ["bytes", size]:
                self.send(200, b"x" * int(size))
            case ["stream", size]:
                # No Content-Length: the body ends when the connection closes.
                self.send_response(200)
                self.end_headers()
                for _ in range(int(size) // 1024):
                    self.wfile.write(b"y" * 1024)
            case ["slow"]:
                self.server.release.wait(10)
                self.send(200, b"late")
            case ["drip"]:
                self.send_response(200)
                self.end_headers()
                for _ in range(200):  # a byte every 50 ms, for 10 s at most
                    if self.server.release.wait(0.05):
                        break
                    self.wfile.write(b"z")
                    self.wfile.flush()
            case ["garbage"]:
                self.wfile.write(b"this is not HTTP\r\n\r\n")
            case _:
                self.send(404, b"")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True


def serve(jpeg: bytes, tls_context: ssl.SSLContext | None = None):
    server = Server(("127.0.0.1", 0), Handler)
    if tls_context is not None:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    server.jpeg, server.seen, server.release = jpeg, [], threading.Event()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def jpeg(shared):
    return (shared / "corpus" / "natural" / "astronaut-00.jpg").read_bytes()


@pytest.fixture
def server(jpeg):
    server = serve(jpeg)
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def base(server):
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_a_real_fetch_returns_the_body_the_status_and_the_sniffed_type(net, server, base, jpeg):
    result = fetch(f"{base}/image.jpg", allow_private=LOCAL)
    assert result.status == 200
    assert result.body == jpeg
    assert result.declared_type == "text/plain"
    assert result.sniffed_type == "image/jpeg"
    assert result.headers["Content-Length"] == str(len(jpeg))
    assert result.url == f"{base}/image.jpg"
    assert [(step.url, step.ip, step.status) for step in result.log] == [
        (f"{base}/image.jpg", "127.0.0.1", 200)
    ]


def test_without_the_allow_list_the_local_server_is_never_contacted(net, server, base):
    with pytest.raises(BlockedAddress):
        fetch(f"{base}/image.jpg")
    assert server.seen == [] and net.dialer.dialed == []


def test_an_error_status_is_returned_not_raised(net, base):
    result = fetch(f"{base}/missing", allow_private=LOCAL)
    assert (result.status, result.body) == (404, b"not here")


def test_html_is_sniffed_whatever_the_header_says(net, base):
    result = fetch(f"{base}/page", allow_private=LOCAL)
    assert (result.declared_type, result.sniffed_type) == ("application/octet-stream", "text/html")


def test_the_name_is_resolved_once_and_sent_as_the_host_header(net, server):
    port = server.server_address[1]
    net.dns.answers["media.example"] = ["127.0.0.1"]
    result = fetch(f"http://media.example:{port}/host", allow_private=LOCAL)
    assert result.body == f"media.example:{port}".encode()
    assert net.dns.asked.count("media.example") == 1


def test_redirects_are_followed_and_logged(net, base, jpeg):
    result = fetch(f"{base}/redirect/3", allow_private=LOCAL)
    assert result.body == jpeg
    assert result.url == f"{base}/image.jpg"
    assert [(step.status, step.redirect_to) for step in result.log] == [
        (302, f"{base}/redirect/2"),
        (302, f"{base}/redirect/1"),
        (302, f"{base}/redirect/0"),
        (302, f"{base}/image.jpg"),
        (200, None),
    ]


def test_at_most_five_redirects_are_followed(net, server, base):
    assert MAX_REDIRECTS == 5
    assert fetch(f"{base}/redirect/4", allow_private=LOCAL).status == 200  # five redirects
    server.seen.clear()
    with pytest.raises(TooManyRedirects) as caught:
        fetch(f"{base}/redirect/5", allow_private=LOCAL)  # six
    assert len(server.seen) == 6
    assert len(caught.value.log) == 6


@pytest.mark.parametrize(
    "target",
    [
        "http://10.0.0.1/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/",
        "http://[::ffff:192.168.0.1]/",
        "http://intranet.example/",
    ],
)
def test_a_redirect_to_a_non_public_address_is_refused(net, server, base, target):
    net.dns.answers["intranet.example"] = ["192.168.10.20"]
    with pytest.raises(BlockedAddress) as caught:
        fetch(f"{base}/to?url={target}", allow_private=LOCAL)
    assert [dialed[0] for dialed in net.dialer.dialed] == ["127.0.0.1"]
    assert len(server.seen) == 1
    first, refused = caught.value.log
    assert (first.status, first.redirect_to) == (301, target)
    assert refused.error and refused.ip


def test_a_redirect_to_another_scheme_is_refused(net, base):
    with pytest.raises(BadScheme):
        fetch(f"{base}/to?url=file:///etc/passwd", allow_private=LOCAL)


def test_the_size_cap_holds_with_and_without_a_content_length(net, base):
    assert len(fetch(f"{base}/bytes/100000", max_bytes=100_000, allow_private=LOCAL).body) == 100_000
    with pytest.raises(TooLarge):
        fetch(f"{base}/bytes/100001", max_bytes=100_000, allow_private=LOCAL)
    assert len(fetch(f"{base}/stream/102400", max_bytes=102_400, allow_private=LOCAL).body) == 102_400
    with pytest.raises(TooLarge):
        fetch(f"{base}/stream/4194304", max_bytes=100_000, allow_private=LOCAL)


def test_a_server_that_does_not_answer_times_out(net, base):
    with pytest.raises(FetchTimeout):
        fetch(f"{base}/slow", read_timeout=0.3, allow_private=LOCAL)


def test_a_server_that_drips_bytes_hits_the_total_timeout(net, base):
    with pytest.raises(FetchTimeout):
        fetch(f"{base}/drip", read_timeout=5, total_timeout=0.5, allow_private=LOCAL)


def test_a_malformed_response_is_a_typed_error(net, base):
    with pytest.raises(TransportError):
        fetch(f"{base}/garbage", allow_private=LOCAL)


# ---- HTTPS: SNI and the certificate are checked against the name, not the address -----------------


def make_certificates(hostname: str) -> tuple[bytes, bytes, bytes]:
    """A throwaway CA and a server certificate for ``hostname``: (CA PEM, server cert PEM, key PEM)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "OpenMNR test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture
def tls_server(jpeg, tmp_path):
    ca_pem, cert_pem, key_pem = make_certificates("media.example")
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    names: list[str | None] = []
    context.sni_callback = lambda sslobj, name, ctx: names.append(name)
    server = serve(jpeg, context)
    server.names = names
    server.client_context = ssl.create_default_context(cadata=ca_pem.decode())
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()


def test_https_sends_the_name_as_sni_and_checks_the_certificate_against_it(net, tls_server, jpeg):
    port = tls_server.server_address[1]
    net.dns.answers["media.example"] = ["127.0.0.1"]
    result = fetch(
        f"https://media.example:{port}/image.jpg", allow_private=LOCAL, ssl_context=tls_server.client_context
    )
    assert result.body == jpeg
    assert tls_server.names == ["media.example"]
    assert tls_server.seen == [("/image.jpg", f"media.example:{port}")]


def test_https_refuses_a_certificate_for_another_name(net, tls_server):
    port = tls_server.server_address[1]
    net.dns.answers["other.example"] = ["127.0.0.1"]
    with pytest.raises(TransportError):
        fetch(
            f"https://other.example:{port}/image.jpg",
            allow_private=LOCAL,
            ssl_context=tls_server.client_context,
        )
    assert tls_server.seen == []


def test_https_refuses_an_untrusted_certificate(net, tls_server):
    port = tls_server.server_address[1]
    net.dns.answers["media.example"] = ["127.0.0.1"]
    with pytest.raises(TransportError):
        fetch(f"https://media.example:{port}/image.jpg", allow_private=LOCAL)
    assert tls_server.seen == []


# ---- Content sniffing ----------------------------------------------------------------------------


def image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 120, 40)).save(buffer, fmt)
    return buffer.getvalue()


def webm_bytes() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=1)
        stream.width, stream.height = 16, 16
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def test_media_types_are_sniffed_from_real_files(shared, jpeg):
    assert sniff_type(jpeg) == "image/jpeg"
    for fmt, expected in [
        ("PNG", "image/png"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("AVIF", "image/avif"),
    ]:
        assert sniff_type(image_bytes(fmt)) == expected, fmt
    mp4 = (shared / "vectors" / "pdq" / "video" / "doorknob-hd-no-bar.mp4").read_bytes()
    assert sniff_type(mp4[:4096]) == "video/mp4"
    assert sniff_type(webm_bytes()) == "video/webm"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbf  \n<!DOCTYPE HTML>\n<html>", "text/html"),
        (b"<html lang=en>", "text/html"),
        (b"<HEAD>", "text/html"),
        (b"<!-- comment -->", "text/html"),
        (b"<p>hello", "text/html"),
        (b"<pre>not one of the signatures", None),
        (b"<?xml version='1.0'?><svg/>", None),
        (b"hello world", None),
        (b"BM", None),
        (b"", None),
        # A HEIC photo is an ISO media file too; its brand says it is an image (no encoder at hand).
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
    ],
)
def test_sniffing_edge_cases(data, expected):
    assert sniff_type(data) == expected
