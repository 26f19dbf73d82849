"""Helpers the tests share (fixtures live in conftest.py): signing in, the local servers that stand
in for the outside world (web sites, RDAP, webhooks, DNS, SMTP, all on 127.0.0.1), bank factories,
and reading a child process's output with a deadline."""

import json
import queue
import re
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode


def sign_in_client(client, user, *, verified: bool = True):
    """Sign `user` in on `client` as the sign-in page would, with or without the second factor."""
    import time

    from django_otp import DEVICE_ID_SESSION_KEY

    from openmnr.accounts.middleware import SIGNED_IN_AT
    from openmnr.accounts.stepup import SESSION_KEY as STEP_UP_KEY

    client.force_login(user)
    session = client.session
    session[SIGNED_IN_AT] = time.time()
    if verified:
        device = user.totpdevice_set.filter(confirmed=True).first()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[STEP_UP_KEY] = time.time()
    session.save()
    return client


def current_totp(user) -> str:
    from django_otp.oath import totp

    device = user.totpdevice_set.filter(confirmed=True).first()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def sign_in_page(page, user, password: str = "correct horse battery 9") -> None:
    """Sign a Playwright page in as ``user`` (made by the make_user fixture) with password and TOTP."""
    page.goto("/accounts/sign-in/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Authenticator code").fill(current_totp(user))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/staff/")


# --- local servers ---------------------------------------------------------------------------------


class LocalServer:
    """An HTTP server on 127.0.0.1 in a daemon thread, answering from `routes` (path -> (status,
    headers, body)) and 404 otherwise. It records every GET path in `requests` and every POST as
    (lower-cased headers, body) in `posts`, answered with `post_status`. A path may be held: its
    request waits (at most 30 s) until the test sets the event `hold` returned, which lets a test
    stop a worker in the middle of a case; any path under /hang/ waits until `close`."""

    not_found = (404, {"Content-Type": "text/plain"}, b"not found")

    def __init__(self):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[str] = []
        self.posts: list[tuple[dict, bytes]] = []
        self.post_status = 200
        self.held: dict[str, threading.Event] = {}
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path in server.held:
                    server.held[self.path].wait(30)
                if self.path.startswith("/hang/"):
                    server.release.wait(30)
                status, headers, body = server.routes.get(self.path, server.not_found)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                server.posts.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(server.post_status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def answer(self, path: str, body: bytes, *, status: int = 200, headers: dict | None = None) -> str:
        self.routes[path] = (status, headers or {}, body)
        return self.url(path)

    def forget(self, path: str) -> None:
        """The path answers 404 from now on."""
        self.routes.pop(path, None)

    def hold(self, path: str) -> threading.Event:
        self.held[path] = threading.Event()
        return self.held[path]

    def close(self) -> None:
        self.release.set()
        for event in self.held.values():
            event.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class Site(LocalServer):
    """A web site whose pages a test changes: pictures, videos and HTML pages showing them."""

    def serve(self, path: str, body: bytes, content_type: str = "image/jpeg", status: int = 200) -> str:
        return self.answer(path, body, status=status, headers={"Content-Type": content_type})

    def image(self, path: str, file) -> bytes:
        """Serve the picture in `file` (a Path) at `path`; returns its bytes."""
        data = file.read_bytes()
        self.serve(path, data)
        return data

    def page(self, path: str, *images: str) -> str:
        """An HTML page showing `images` (their paths or URLs); returns its URL."""
        tags = "".join(f'<img src="{src}" alt="">' for src in images)
        html = f"<!doctype html><html><body><p>gallery</p>{tags}</body></html>".encode()
        return self.serve(path, html, "text/html; charset=utf-8")


class Rdap(LocalServer):
    """An RDAP server: answers by path (`answer`), or from the helpers for an IP network's abuse
    contact and a domain's registrar."""

    not_found = (404, {"Content-Type": "application/rdap+json"}, b'{"errorCode": 404}')

    def answer(self, path, data, *, status: int = 200, headers: dict | None = None) -> str:
        body = data if isinstance(data, bytes) else json.dumps(data).encode()
        return super().answer(
            path, body, status=status, headers={"Content-Type": "application/rdap+json", **(headers or {})}
        )

    @staticmethod
    def abuse(email: str, role: str = "abuse") -> dict:
        return {
            "roles": [role],
            "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["email", {}, "text", email]]],
        }

    def network(self, ip: str, abuse_email: str) -> None:
        self.answer(f"/ip/{ip}", {"objectClassName": "ip network", "entities": [self.abuse(abuse_email)]})

    def domain(self, name: str, registrar: str, abuse_email: str) -> None:
        entity = {
            "roles": ["registrar"],
            "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", registrar]]],
            "entities": [self.abuse(abuse_email)],
        }
        self.answer(f"/domain/{name}", {"objectClassName": "domain", "ldhName": name, "entities": [entity]})


def mmdb_files(folder, networks: dict) -> tuple:
    """ASN and country databases in MaxMind's GeoLite2 layouts, built with mmdb-writer in `folder`
    from {network: (AS number, organisation, country code)}; returns (asn_path, country_path)."""
    from mmdb_writer import MMDBWriter
    from netaddr import IPSet

    asn = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-ASN")
    country = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    for network, (number, org, iso) in networks.items():
        asn.insert_network(
            IPSet([network]), {"autonomous_system_number": number, "autonomous_system_organization": org}
        )
        country.insert_network(IPSet([network]), {"country": {"iso_code": iso, "names": {"en": iso}}})
    paths = folder / "asn.mmdb", folder / "country.mmdb"
    asn.to_db_file(str(paths[0]))
    country.to_db_file(str(paths[1]))
    return paths


class Mailbox:
    """What a local SMTP server (aiosmtpd) received: [(recipients, email.message.EmailMessage)]."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server():
    """A real SMTP server on 127.0.0.1: yields (port, Mailbox)."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@contextmanager
def local_dns_server(zone: dict):
    """A UDP DNS server on 127.0.0.1 answering from `zone` ({(name, rdtype): [values]}), read live
    so a test may change it; names absent from every key do not exist (NXDOMAIN). Yields the port."""
    import socket
    import threading

    import dns.message
    import dns.rcode
    import dns.rdatatype
    import dns.rrset

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().rstrip(".")
            rdtype = dns.rdatatype.to_text(question.rdtype)
            response = dns.message.make_response(query)
            if name not in {key[0] for key in zone}:
                response.set_rcode(dns.rcode.NXDOMAIN)
            elif (name, rdtype) in zone:
                response.answer.append(
                    dns.rrset.from_text(question.name, 60, "IN", rdtype, *zone[(name, rdtype)])
                )
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        sock.close()


# --- child processes -------------------------------------------------------------------------------


class LineReader:
    """Reads a child process's output line by line with a deadline: a child that hangs or dies
    fails the test with what it said instead of blocking the suite (``readline()`` alone waits
    forever)."""

    def __init__(self, stream):
        self._lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def readline(self, timeout: float = 60) -> str:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the child process said nothing for {timeout} s") from None
        if line is None:
            raise AssertionError("the child process ended before answering")
        return line


# --- banks -----------------------------------------------------------------------------------------

BANK_ROLES = ["analyst", "senior_analyst", "industry_member", "partner_hotline"]


def new_bank(purpose: str = "confirmed_csam", *, name: str | None = None, match_roles=None, **fields):
    """A bank written straight to the database (no audit). A confirmed-CSAM bank is matched by
    every role unless told; other purposes are for staff only unless `match_roles` says otherwise
    (a bank shared with industry or partners needs a second person's confirmation per entry)."""
    from openmnr.banks.models import Bank

    if match_roles is None:
        match_roles = BANK_ROLES if purpose == "confirmed_csam" else BANK_ROLES[:2]
    return Bank.objects.create(
        name=name or f"{purpose} bank {Bank.objects.count() + 1}",
        purpose=purpose,
        match_roles=match_roles,
        **fields,
    )


def confirmed_entry(bank, signal_type: str, value: str, *, by, seniors, classification="baseline", **fields):
    """An entry proposed by `by` and confirmed by each of `seniors`, through banks.services (four
    eyes and audit as in production)."""
    from openmnr.banks import services

    entry = services.propose_entry(
        bank, signal_type=signal_type, value=value, classification=classification, by=by, **fields
    )
    for senior in seniors:
        services.confirm_entry(entry, by=senior)
    return entry


def confirmed_picture(bank, data: bytes, *, by, seniors, classification="baseline", **fields):
    """A picture proposed *as a picture* by `by` (with OPENMNR_MATCH_FEATURES on at that moment it
    keeps its keypoints) and confirmed by each of `seniors`, through banks.services."""
    from openmnr.banks import services

    entry = services.propose_picture(bank, data, classification=classification, by=by, **fields)
    for senior in seniors:
        entry = services.confirm_entry(entry, by=senior)
    return entry


def cropped(data: bytes, share: float = 0.10) -> bytes:
    """The picture with ``share`` of its width cut off at the left, as JPEG: PDQ and its probes
    miss it, local features find it."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.crop((round(image.width * share), 0, image.width, image.height)).save(out, "JPEG", quality=90)
    return out.getvalue()


def bank_with_image(bank, image: bytes, analyst, seniors):
    """Propose the image's PDQ and MD5 and have two seniors confirm them."""
    from openmnr.banks import services

    hashes = services.hash_upload(image)
    for signal_type in ("pdq", "md5"):
        confirmed_entry(
            bank, signal_type, hashes[signal_type].value, by=analyst, seniors=seniors, category="demo"
        )
    return hashes


def report_by_form(client, url: str) -> None:
    """File a public report of ``url`` as CSAM on a web page through the form, and check it was
    acknowledged (a tracking code shown)."""
    data = {"urls": url, "found_where": "web_page", "content_kind": "csam"}
    response = client.post("/report/", urlencode(data), content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and re.search(r'id="tracking-code">', response.content.decode())
