"""The INHOPE ICCAM API 3 client: mutual TLS, bearer tokens, and one typed error per kind of failure.

ICCAM is reached over HTTPS with a client certificate INHOPE issues to each member hotline, and
every call carries a bearer token from ``POST Authentication`` (user name and password). A token
lives ``bearerTokenExpiresIn`` seconds; it is renewed with ``POST Authentication/refresh`` shortly
before it ends (or by a fresh login when the refresh is refused), and given back with ``POST
Authentication/logout`` when the client closes. Paths and bodies follow the open-source SCARt client
(AbuseIO/SCART-application, scart/classes/iccam/api3/), the only public description of the API.

A 401 on a call means the token is no longer good whatever its clock said: the client logs in
again once and repeats the call once. A second 401 is an `IccamAuthError`, never a loop.

What a caller must do depends on the failure, so each has its own type:

- `IccamUnavailable`: the network failed, the call timed out, or ICCAM answered 5xx/429. Try again
  in the next cycle. ``maybe_applied`` is true when the request went out and no answer came back
  (a read timeout, a dropped connection): for a call that is not idempotent (a new report, a new
  action) the caller must not simply repeat it. `IccamTLSError` is the TLS kind: a server
  certificate that does not verify, or a client certificate the server refuses.
- `IccamRejected`: ICCAM refused the request (4xx other than 401); ``field_errors`` holds what it
  said about each field. Sending it again will not help.
- `IccamAuthError`: the login was refused, or a fresh token was refused too.
- `IccamProtocolError`: a 2xx answer that is not what the API documents (not JSON, not the shape).

Redirects are not followed (the configured URL is the one the certificate was issued for) and the
environment's proxy settings are ignored, as in the rest of OpenMNR's clients.
"""

import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from . import ExchangeError

MAX_BODY_BYTES = 20 * 1024 * 1024
# ICCAM's own limit on one page of a queue.
MAX_RESULTS_LIMIT = 200
USER_AGENT = "OpenMNR-ICCAM/1"


class IccamError(ExchangeError):
    """Base of the ICCAM client's errors."""


class IccamUnavailable(IccamError):
    """ICCAM could not be reached or answered 5xx/429: try again in the next cycle."""

    def __init__(self, message: str, *, maybe_applied: bool = False):
        super().__init__(message)
        self.maybe_applied = maybe_applied


class IccamTLSError(IccamUnavailable):
    """The TLS handshake failed: a certificate did not verify on one side or the other."""


class IccamAuthError(IccamError):
    """The login was refused, or ICCAM refused a freshly issued token as well."""


class IccamRejected(IccamError):
    """ICCAM refused the request (4xx); `field_errors` maps each field to ICCAM's messages."""

    def __init__(self, message: str, *, status: int, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.status = status
        self.field_errors = field_errors or {}


class IccamProtocolError(IccamError):
    """A successful answer that is not what the API documents."""


@dataclass(frozen=True)
class IccamConfig:
    """Where ICCAM is and how we prove who we are. Certificate and key are PEM files."""

    base_url: str
    username: str
    password: str
    client_cert: str = ""
    client_key: str = ""
    ca_cert: str = ""
    timeout: float = 30.0
    refresh_margin: float = 60.0  # seconds before expiry at which the token is renewed


def ssl_context(config: IccamConfig) -> ssl.SSLContext:
    """Server verification against the configured CA (or the system's), our certificate offered."""
    context = ssl.create_default_context(cafile=config.ca_cert or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if config.client_cert:
        try:
            context.load_cert_chain(config.client_cert, config.client_key or None)
        except (OSError, ssl.SSLError) as exc:
            raise IccamTLSError(f"the client certificate or key cannot be loaded: {exc}") from None
    return context


def iccam_date(moment: datetime) -> str:
    """A time as ICCAM writes it: ISO 8601 in UTC with a Z, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class IccamClient:
    """One session with ICCAM. Use it as a context manager so that the token is given back."""

    def __init__(
        self,
        config: IccamConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        transport: httpx.BaseTransport | None = None,
    ):
        if not config.base_url.startswith("https://"):
            raise IccamTLSError("the ICCAM URL must start with https://")
        self.config = config
        self._clock = clock
        self._token = ""
        self._refresh_token = ""
        self._expires_at = 0.0
        self.logins = 0  # how many times this session logged in; tests and `iccam check` read it
        self._http = httpx.Client(
            base_url=config.base_url.rstrip("/") + "/",
            verify=ssl_context(config),
            timeout=httpx.Timeout(config.timeout),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
        )

    def __enter__(self) -> "IccamClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Log out (best effort: a failing logout only lets the token run out) and close."""
        try:
            if self._token:
                self._send("POST", "Authentication/logout", authorised=True)
        except IccamError:
            pass
        finally:
            self._token = self._refresh_token = ""
            self._http.close()

    # --- tokens -------------------------------------------------------------------------------

    def login(self) -> None:
        response = self._send(
            "POST",
            "Authentication",
            body={"username": self.config.username, "password": self.config.password},
        )
        if response.status_code in (400, 401, 403):
            raise IccamAuthError(
                f"ICCAM refused the login of {self.config.username!r} (HTTP {response.status_code})"
            )
        self._raise_for(response)
        self._take_token(self._json(response), "login")
        self.logins += 1

    def _take_token(self, data: Any, what: str) -> None:
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("bearerToken"), str)
            or not data["bearerToken"]
        ):
            raise IccamProtocolError(f"the {what} answer carries no bearerToken")
        lifetime = data.get("bearerTokenExpiresIn", 1800)
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool) or lifetime <= 0:
            raise IccamProtocolError(f"the {what} answer has a bearerTokenExpiresIn of {lifetime!r}")
        self._token = data["bearerToken"]
        self._refresh_token = data.get("refreshToken") if isinstance(data.get("refreshToken"), str) else ""
        self._expires_at = self._clock() + float(lifetime)

    def _refresh(self) -> None:
        """Renew the token; a refused refresh becomes a fresh login."""
        if self._refresh_token:
            response = self._send(
                "POST",
                "Authentication/refresh",
                body={"bearerToken": self._token, "refreshToken": self._refresh_token},
            )
            if 200 <= response.status_code < 300:
                self._take_token(self._json(response), "refresh")
                return
            if response.status_code >= 500:
                self._raise_for(response)
        self.login()

    def _ensure_token(self) -> None:
        if not self._token:
            self.login()
        elif self._clock() >= self._expires_at - self.config.refresh_margin:
            self._refresh()

    # --- calls --------------------------------------------------------------------------------

    def call(self, method: str, path: str, *, params=None, body=None, idempotent: bool = True) -> Any:
        """One API call with a valid token: the decoded JSON answer (None for an empty one)."""
        self._ensure_token()
        response = self._send(method, path, params=params, body=body, authorised=True, idempotent=idempotent)
        if response.status_code == 401:
            # The token is dead whatever its clock said: one fresh login, one more try, no loop.
            self._token = ""
            self.login()
            response = self._send(
                method, path, params=params, body=body, authorised=True, idempotent=idempotent
            )
            if response.status_code == 401:
                raise IccamAuthError(f"ICCAM refused a fresh token for {method} {path}")
        self._raise_for(response)
        return self._json(response)

    def lookup(self, path: str) -> list[dict]:
        """A lookup list (rest/classifications, rest/age-categories, ...): [{"id"|"type", "name"}]."""
        data = self.call("GET", path)
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            raise IccamProtocolError(f"{path} is not a list of objects")
        return data

    def no_reference(self, max_results: int, since: datetime | None = None) -> list[dict]:
        """Content items assigned to us that carry no hotline reference yet, at most `max_results`."""
        params = {"maxResults": max(1, min(int(max_results), MAX_RESULTS_LIMIT))}
        if since is not None:
            params["countryAssignmentStartDate"] = iccam_date(since)
        data = self.call("GET", "rest/Content/no-reference", params=params)
        if data is None:
            return []
        if not isinstance(data, list):
            raise IccamProtocolError("the no-reference queue is not a list")
        return data

    def report(self, report_id: int) -> Any:
        return self.call("GET", f"rest/Reports/{int(report_id)}")

    def content(self, content_id: int) -> Any:
        return self.call("GET", f"rest/Content/{int(content_id)}")

    def set_hotline_reference(self, content_id: int, reference: str) -> None:
        self.call("PUT", f"rest/Content/{int(content_id)}/hotline-reference", params={"reference": reference})

    def create_report(self, body: dict) -> int:
        """POST a new report; ICCAM answers with its id."""
        data = self.call("POST", "rest/reports", body=body, idempotent=False)
        if isinstance(data, dict):
            data = data.get("reportId", data.get("id"))
        if isinstance(data, str) and data.isdigit():
            data = int(data)
        if not isinstance(data, int) or isinstance(data, bool) or data <= 0:
            raise IccamProtocolError(f"ICCAM created a report but answered {data!r} instead of its id")
        return data

    def put_assessment(self, content_id: int, body: dict) -> None:
        self.call("PUT", f"rest/Content/{int(content_id)}/assessment", body=body)

    def post_action(self, content_id: int, body: dict) -> None:
        self.call("POST", f"rest/Content/{int(content_id)}/actions", body=body, idempotent=False)

    def put_hosting(self, content_id: int, ip: str, country: str) -> None:
        self.call(
            "PUT",
            f"rest/Content/{int(content_id)}/url/hosting",
            params={"newIpAddress": ip, "newCountryCode": country},
        )

    def put_assigned_country(self, content_id: int, country: str) -> None:
        self.call(
            "PUT", f"rest/Content/{int(content_id)}/assigned-country", params={"newCountryCode": country}
        )

    # --- transport ----------------------------------------------------------------------------

    def _send(
        self, method, path, *, params=None, body=None, authorised=False, idempotent=True
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"} if authorised else {}
        content = None
        if body is not None:
            content = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, path, params=params, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise _unavailable(exc, method, path, idempotent) from None
        if len(response.content) > MAX_BODY_BYTES:
            raise IccamProtocolError(f"{method} {path}: the answer is larger than {MAX_BODY_BYTES} bytes")
        return response

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        where = f"{response.request.method} {response.request.url.path}"
        if 200 <= status < 300:
            return
        if status >= 500 or status in (408, 429):
            raise IccamUnavailable(f"{where}: ICCAM answered HTTP {status}")
        if 300 <= status < 400:
            raise IccamProtocolError(
                f"{where}: ICCAM answered a redirect (HTTP {status}), which is not followed"
            )
        errors = _field_errors(response)
        detail = "; ".join(f"{field}: {', '.join(messages)}" for field, messages in errors.items())
        raise IccamRejected(
            f"{where}: ICCAM refused the request (HTTP {status}){': ' + detail if detail else ''}",
            status=status,
            field_errors=errors,
        )

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        if not response.content.strip():
            return None
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            where = f"{response.request.method} {response.request.url.path}"
            raise IccamProtocolError(f"{where}: the answer is not JSON") from None


def _unavailable(exc: httpx.HTTPError, method: str, path: str, idempotent: bool) -> IccamUnavailable:
    cause = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return IccamTLSError(f"{method} {path}: TLS failed: {cause}")
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    if "SSL" in text or "certificate" in text.lower():
        return IccamTLSError(f"{method} {path}: TLS failed: {text}")
    # A request that never left (no connection) cannot have been applied; one that went out and got
    # no answer may have been.
    sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return IccamUnavailable(
        f"{method} {path}: the connection to ICCAM {kind}: {text}", maybe_applied=sent and not idempotent
    )


def _field_errors(response: httpx.Response) -> dict[str, list[str]]:
    """ICCAM's {"errors": {"field": ["message", ...]}} (also as ProblemDetails), as a plain dict."""
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = response.text.strip()[:500]
        return {"": [text]} if text else {}
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, dict):
        return {
            str(field): [str(m) for m in (messages if isinstance(messages, list) else [messages])]
            for field, messages in errors.items()
        }
    if isinstance(errors, list):
        return {"": [str(m) for m in errors]}
    if isinstance(data, dict):
        message = data.get("title") or data.get("message") or data.get("detail")
        if message:
            return {"": [str(message)]}
    return {}
