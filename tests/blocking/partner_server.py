"""A partner OpenMNR's export endpoint on 127.0.0.1, for the partner-list tests: it serves the signed
document it is given, or, when told, an HTTP status with its headers (a 429 with Retry-After)."""

import http.server
import json
import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openmnr.core.urllist import listformat

PARTNER_KEY = Ed25519PrivateKey.generate()
PARTNER_PEM = (
    PARTNER_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)


class PartnerServer:
    """Serves whatever document it is given; ``refuse(status, headers)`` makes it answer that instead."""

    def __init__(self):
        self.document = {}
        self.authorizations = []
        self.status, self.headers = 200, {}
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                owner.authorizations.append(self.headers.get("Authorization"))
                body = json.dumps(owner.document if owner.status == 200 else {"error": "no"}).encode()
                self.send_response(owner.status)
                for name, value in owner.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/api/v1/urllist/export"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, version, entries, key=PARTNER_KEY):
        payload = listformat.export_payload("partner-urls", version, entries, generated_at="t")
        self.document = listformat.sign(payload, key)
        self.status, self.headers = 200, {}

    def refuse(self, status, headers=None):
        self.status, self.headers = status, headers or {}

    @property
    def requests(self) -> int:
        return len(self.authorizations)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
