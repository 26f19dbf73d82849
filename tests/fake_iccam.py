"""A fake INHOPE ICCAM API 3 server on 127.0.0.1 with real mutual TLS, for the exchange tests.

It speaks the paths and bodies the ICCAM client uses (after SCARt's client), keeps its reports and
content items in memory, checks bearer tokens with their expiry, and can be told to misbehave: answer
a status a number of times, answer text that is not JSON, wait before answering, refuse every token.
Every request is recorded, so a test can count what reached "ICCAM".

The certificates are made here with `cryptography`: a CA, a server certificate for 127.0.0.1, a
client certificate, and a second, unrelated CA with its own server and client certificates for the
tests where verification must fail.
"""

import json
import re
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# --- certificates ---------------------------------------------------------------------------------


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _write(folder: Path, stem: str, key, cert) -> tuple[str, str]:
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


def _ca(common_name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _leaf(ca_key, ca_cert, common_name: str, *, server: bool):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
    )
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
    return key, builder.sign(ca_key, hashes.SHA256())


@dataclass(frozen=True)
class Pki:
    ca_cert: str
    server_cert: str
    server_key: str
    client_cert: str
    client_key: str
    # An unrelated authority and the certificates it issued: verification against the real CA fails.
    rogue_ca_cert: str
    rogue_server_cert: str
    rogue_server_key: str
    rogue_client_cert: str
    rogue_client_key: str


def make_pki(folder: Path) -> Pki:
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = _ca("Test ICCAM CA")
    rogue_key, rogue_cert = _ca("Somebody Else's CA")
    ca_path = folder / "ca.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    rogue_path = folder / "rogue-ca.pem"
    rogue_path.write_bytes(rogue_cert.public_bytes(serialization.Encoding.PEM))
    server = _write(folder, "server", *_leaf(ca_key, ca_cert, "iccam.test", server=True))
    client = _write(folder, "client", *_leaf(ca_key, ca_cert, "hotline.test", server=False))
    rogue_server = _write(folder, "rogue-server", *_leaf(rogue_key, rogue_cert, "iccam.test", server=True))
    rogue_client = _write(folder, "rogue-client", *_leaf(rogue_key, rogue_cert, "hotline.test", server=False))
    return Pki(
        str(ca_path),
        *server,
        *client,
        str(rogue_path),
        *rogue_server,
        *rogue_client,
    )


# --- the server -----------------------------------------------------------------------------------


@dataclass
class Fault:
    method: str
    pattern: re.Pattern
    status: int = 0  # answer this status
    body: bytes = b""  # ... with this body (default: a JSON error)
    delay: float = 0.0  # wait this long first
    times: int = 1  # for this many matching requests (-1: always)
    drop_after_handling: bool = False  # do the work, then close without answering


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    body: object
    authorised: bool


@dataclass
class FakeIccam:
    pki: Pki
    country: str = "PT"
    username: str = "hotline-api"
    password: str = "correct horse battery staple"
    token_lifetime: int = 1800
    certificate: str = "real"  # "rogue": serve a certificate from the unrelated CA
    reports: dict = field(default_factory=dict)
    contents: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)
    faults: list = field(default_factory=list)
    tokens: dict = field(default_factory=dict)  # bearer -> expiry (server time)
    refresh_tokens: dict = field(default_factory=dict)  # refresh -> bearer
    next_id: int = 9000
    added: int = 0
    lookups: dict = field(default_factory=dict)

    # --- test helpers ---------------------------------------------------------------------------

    def start(self) -> "FakeIccam":
        handler = _handler(self)
        self._server = _QuietServer(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if self.certificate == "rogue":
            context.load_cert_chain(self.pki.rogue_server_cert, self.pki.rogue_server_key)
        else:
            context.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        context.load_verify_locations(self.pki.ca_cert)
        context.verify_mode = ssl.CERT_REQUIRED  # mutual TLS: no client certificate, no connection
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}/api/"

    def fail(self, method: str, pattern: str, status: int = 0, *, times: int = 1, **kwargs) -> None:
        self.faults.append(Fault(method, re.compile(pattern), status, times=times, **kwargs))

    def expire_tokens(self) -> None:
        self.tokens = {token: 0.0 for token in self.tokens}

    def calls(self, method: str, pattern: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and re.search(pattern, r.path)]

    def add_report(
        self,
        report_id: int,
        urls: list[str],
        *,
        hotline: str = "DE-ECO",
        memo: str = "",
        site_type: int | None = 2,
        commerciality: int | None = 1,
        payment_methods=(1,),
        assessment: dict | None = None,
        assigned: str | None = None,
        hosting: str | None = None,
        assigned_at: datetime | None = None,
        content_ids: list[int] | None = None,
    ) -> list[int]:
        """A partner's report whose content items are assigned to our country; their ids."""
        ids = content_ids or [report_id * 10 + n for n in range(1, len(urls) + 1)]
        # Reports are assigned one second apart, in the order the test adds them.
        self.added += 1
        assigned_at = assigned_at or datetime.now(UTC) - timedelta(minutes=10) + timedelta(seconds=self.added)
        for number, (content_id, url) in enumerate(zip(ids, urls, strict=True)):
            self.contents[content_id] = {
                "contentId": content_id,
                "reportId": report_id,
                "url": {
                    "urlString": url,
                    "isSourceUrl": number == 0,
                    "hostingCountryCode": hosting or self.country,
                    "hostingIpAddress": "203.0.113.7",
                },
                "memo": memo if number == 0 else None,
                "assignedCountryCode": assigned or self.country,
                "countryAssignmentDate": assigned_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "hotlineReference": None,
                "assessments": [assessment] if assessment else [],
                "actions": [],
            }
        self.reports[report_id] = {
            "reportingHotlineId": hotline,
            "reportingAnalystName": "analyst-1",
            "memo": memo,
            "referrerUrl": None,
            "sourceUrlSiteType": site_type,
            "sourceUrlCommerciality": commerciality,
            "sourceUrlPaymentMethods": list(payment_methods),
            "reportContents": [{"contentId": c, "urlString": u} for c, u in zip(ids, urls, strict=True)],
        }
        return ids

    # --- the API --------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, body, token: str):
        """(status, JSON-able answer) for one request, after faults and authentication."""
        if path == "/api/Authentication" and method == "POST":
            if body.get("username") == self.username and body.get("password") == self.password:
                return 200, self._issue()
            return 401, {"errors": {"": ["wrong user name or password"]}}
        if path == "/api/Authentication/refresh" and method == "POST":
            bearer = self.refresh_tokens.pop(body.get("refreshToken"), None)
            if bearer is None:
                return 401, {"errors": {"": ["unknown refresh token"]}}
            self.tokens.pop(bearer, None)
            return 200, self._issue()
        if path == "/api/Authentication/logout" and method == "POST":
            self.tokens.pop(token, None)
            return 200, None
        if self.tokens.get(token, 0) < time.monotonic():
            return 401, None
        if not path.startswith("/api/rest/"):
            return 404, None
        return self._rest(method, path.removeprefix("/api/rest/"), query, body)

    def _issue(self) -> dict:
        bearer, refresh = secrets.token_hex(16), secrets.token_hex(16)
        self.tokens[bearer] = time.monotonic() + self.token_lifetime
        self.refresh_tokens[refresh] = bearer
        return {"bearerToken": bearer, "refreshToken": refresh, "bearerTokenExpiresIn": self.token_lifetime}

    def _rest(self, method, path, query, body):
        if method == "GET" and path in self.lookups:
            return 200, self.lookups[path]
        if method == "GET" and path == "Content/no-reference":
            limit = int(query.get("maxResults", ["30"])[0])
            since = query.get("countryAssignmentStartDate", [""])[0]
            waiting = [
                c
                for c in sorted(
                    self.contents.values(), key=lambda c: (c["countryAssignmentDate"], c["contentId"])
                )
                if not c["hotlineReference"]
                and c["assignedCountryCode"] == self.country
                and (not since or c["countryAssignmentDate"] >= since)
            ]
            return 200, [{"reportId": c["reportId"], "contentId": c["contentId"]} for c in waiting[:limit]]
        if match := re.fullmatch(r"Reports/(\d+)", path):
            report = self.reports.get(int(match[1]))
            return (200, report) if report is not None and method == "GET" else (404, None)
        if method == "POST" and path == "reports":
            return self._create_report(body)
        match = re.fullmatch(r"Content/(\d+)(/.*)?", path)
        if not match or int(match[1]) not in self.contents:
            return 404, None
        content, rest = self.contents[int(match[1])], match[2] or ""
        if method == "GET" and not rest:
            return 200, content
        if method == "PUT" and rest == "/hotline-reference":
            content["hotlineReference"] = query["reference"][0]
            return 200, None
        if method == "PUT" and rest == "/assessment":
            if body.get("classification") not in (1, 2, 4):
                return 400, {"errors": {"classification": ["The classification is not valid."]}}
            content["assessments"].append(body)
            return 200, None
        if method == "POST" and rest == "/actions":
            if content["assignedCountryCode"] != self.country:
                return 403, {"errors": {"": ["The content is not assigned to your hotline."]}}
            if "actionType" not in body or "actionDate" not in body:
                return 400, {"errors": {"actionType": ["Required."]}}
            content["actions"].append(
                {
                    "actionType": body["actionType"],
                    "analystName": body.get("actioningAnalystName"),
                    "actionDate": body["actionDate"],
                }
            )
            return 200, None
        if method == "PUT" and rest == "/url/hosting":
            content["url"]["hostingIpAddress"] = query["newIpAddress"][0]
            content["url"]["hostingCountryCode"] = query["newCountryCode"][0]
            return 200, None
        if method == "PUT" and rest == "/assigned-country":
            content["assignedCountryCode"] = query["newCountryCode"][0]
            return 200, None
        return 404, None

    def _create_report(self, body):
        errors = {}
        urls = body.get("urls") if isinstance(body, dict) else None
        if not urls:
            errors["urls"] = ["At least one URL is required."]
        for index, url in enumerate(urls or []):
            if not url.get("hostingCountryCode"):
                errors[f"urls[{index}].hostingCountryCode"] = ["The hosting country is required."]
        if errors:
            return 400, {"errors": errors}
        self.next_id += 1
        report_id = self.next_id
        ids = []
        for url in urls:
            self.next_id += 1
            ids.append(self.next_id)
            self.contents[self.next_id] = {
                "contentId": self.next_id,
                "reportId": report_id,
                "url": {
                    "urlString": url["urlString"],
                    "isSourceUrl": url["isSourceUrl"],
                    "hostingCountryCode": url["hostingCountryCode"],
                    "hostingIpAddress": url.get("hostingIpAddress"),
                },
                "memo": url.get("memo"),
                "assignedCountryCode": self.country,
                "countryAssignmentDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "hotlineReference": url.get("hotlineReference"),
                "assessments": [url["assessment"]] if url.get("assessment") else [],
                "actions": [],
            }
        self.reports[report_id] = {
            **{k: v for k, v in body.items() if k != "urls"},
            "reportingHotlineId": self.country,
            "reportContents": [
                {"contentId": c, "urlString": u["urlString"]} for c, u in zip(ids, urls, strict=True)
            ],
        }
        return 200, report_id


class _QuietServer(ThreadingHTTPServer):
    """Clients that give up (a timeout test) or fail the handshake (a certificate test) are expected
    here: no traceback for them."""

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _handler(fake: FakeIccam):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _serve(self, method: str):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except json.JSONDecodeError:
                body = {}
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            query = parse_qs(parts.query)
            fake.requests.append(Recorded(method, parts.path, query, body, bool(token)))
            for fault in fake.faults:
                if fault.times != 0 and fault.method == method and fault.pattern.search(parts.path):
                    fault.times -= 1 if fault.times > 0 else 0
                    if fault.delay:
                        time.sleep(fault.delay)
                    if fault.drop_after_handling:
                        fake.handle(method, parts.path, query, body, token)
                        self.close_connection = True
                        self.connection.close()
                        return
                    if fault.status:
                        self._answer(
                            fault.status, fault.body or json.dumps({"errors": {"": ["injected"]}}).encode()
                        )
                        return
                    break
            status, answer = fake.handle(method, parts.path, query, body, token)
            self._answer(status, b"" if answer is None else json.dumps(answer).encode())

        def _answer(self, status: int, data: bytes):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_PUT(self):
            self._serve("PUT")

    return Handler
