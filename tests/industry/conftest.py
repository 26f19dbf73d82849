"""Fixtures for the industry tests: a provider with /ispws/ credentials, a bank of confirmed
material holding one benign corpus picture, a live server on 127.0.0.1 and report documents."""

from types import SimpleNamespace

import pytest

NATURAL = "corpus/natural"
KNOWN, NEW, OTHER = "astronaut-01.jpg", "camera-00.jpg", "coffee-02.jpg"


@pytest.fixture(autouse=True)
def _industry_settings(settings, tmp_path):
    settings.BANKS_INDEX_DIR = tmp_path / "index"
    settings.BANKS_POLL_SECONDS = 0
    settings.BANKS_ISOLATE_DECODE = False
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.KEEP_EVIDENCE = False
    settings.EVIDENCE_KEY = ""
    settings.INDUSTRY_SPOOL_DIR = tmp_path / "spool"
    settings.TAKEDOWN_HOME_COUNTRY = "PT"
    settings.TAKEDOWN_COUNTRY_DB = ""
    settings.REFERRAL_DIR = str(tmp_path / "referrals")
    settings.REFERRAL_SIGNING_KEY = str(tmp_path / "keys" / "signing.pem")


@pytest.fixture
def signing_key(settings):
    """The hotline's referral signing key (made by the operator with OpenSSL in production)."""
    from pathlib import Path

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    path = Path(settings.REFERRAL_SIGNING_KEY)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return key


@pytest.fixture
def make_provider(make_user):
    from openmnr.industry import credentials

    def make():
        user = make_user("industry_member")
        credential, password = credentials.issue(user)
        return SimpleNamespace(user=user, username=credential.username, password=password)

    return make


@pytest.fixture
def provider(make_provider):
    return make_provider()


@pytest.fixture
def known_bank(db, make_user, shared):
    """A confirmed-CSAM bank holding the PDQ and MD5 of one benign corpus picture (a stand-in)."""
    from helpers import bank_with_image
    from openmnr.banks.models import Bank, Purpose

    bank = Bank.objects.create(
        name="Confirmed (test)", purpose=Purpose.CONFIRMED_CSAM, match_roles=["analyst", "senior_analyst"]
    )
    image = (shared / NATURAL / KNOWN).read_bytes()
    bank_with_image(
        bank, image, make_user("analyst"), (make_user("senior_analyst"), make_user("senior_analyst"))
    )
    return bank


PLAIN_HTTP = {
    "SECURE_SSL_REDIRECT": False,
    "SECURE_HSTS_SECONDS": 0,
    "SESSION_COOKIE_SECURE": False,
    "CSRF_COOKIE_SECURE": False,
    "SESSION_COOKIE_NAME": "sessionid",
    "CSRF_COOKIE_NAME": "csrftoken",
}


@pytest.fixture(scope="module")
def ispws_server(django_db_blocker):
    """A live server on 127.0.0.1 speaking plain HTTP, for real HTTP clients (httpx, curl)."""
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    with override_settings(**PLAIN_HTTP), django_db_blocker.unblock():
        server = LiveServer("127.0.0.1")
        yield server
        server.stop()


@pytest.fixture
def ispws(ispws_server, provider):
    """An HTTP client (httpx, not Django's test client) of the live /ispws/ as the provider."""
    import httpx

    with httpx.Client(
        base_url=f"{ispws_server.url}/ispws", auth=(provider.username, provider.password), timeout=60
    ) as client:
        yield client


@pytest.fixture
def docs(shared):
    """Report and fileDetails builders, and the benign corpus pictures: known (in known_bank), new."""
    return SimpleNamespace(
        report=report_xml,
        details=file_details_xml,
        known=(shared / NATURAL / KNOWN).read_bytes(),
        new=(shared / NATURAL / NEW).read_bytes(),
        other=(shared / NATURAL / OTHER).read_bytes(),
    )


def report_xml(
    *,
    escalate: str = "",
    victim_country: str = "",
    reported_id: str = "user-1",
    phone_code: str = "",
    ip: str = "",
    extra: str = "",
) -> bytes:
    """A valid <report> with a reported account and, optionally, a victim placed somewhere."""
    escalate_xml = f"<escalateToHighPriority>{escalate}</escalateToHighPriority>" if escalate else ""
    ip_xml = (
        f"<ipCaptureEvent><ipAddress>{ip}</ipAddress><eventName>Upload</eventName></ipCaptureEvent>"
        if ip
        else ""
    )
    victim = ""
    if victim_country or phone_code:
        phone = f'<phone countryCallingCode="{phone_code}">912345678</phone>' if phone_code else ""
        address = f"<address><country>{victim_country}</country></address>" if victim_country else ""
        victim = f"<victim><victimPerson><firstName>A</firstName>{phone}{address}</victimPerson></victim>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<report xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<incidentSummary><incidentType>Child Pornography (possession, manufacture, and distribution)</incidentType>"
        f"<platform>Example Chat</platform>{escalate_xml}"
        "<incidentDateTime>2026-11-30T09:00:00Z</incidentDateTime></incidentSummary>"
        "<internetDetails><webPageIncident><url>https://chat.example/post/1</url></webPageIncident></internetDetails>"
        "<reporter><reportingPerson><firstName>Trust</firstName><lastName>Safety</lastName>"
        "<email>ts@provider.example</email></reportingPerson></reporter>"
        f"<personOrUserReported><espIdentifier>{reported_id}</espIdentifier><espService>Example Chat</espService>"
        f"{ip_xml}</personOrUserReported>"
        f"{victim}{extra}</report>"
    ).encode()


def file_details_xml(
    report_id, file_id, *, classification="A1", annotations=("generativeAi", "infant")
) -> bytes:
    flags = "".join(f"<{a}>true</{a}>" for a in annotations)
    return (
        "<fileDetails>"
        f"<reportId>{report_id}</reportId><fileId>{file_id}</fileId>"
        "<originalFileName>holiday.jpg</originalFileName>"
        "<publiclyAvailable>false</publiclyAvailable>"
        f"{'<fileAnnotations>' + flags + '</fileAnnotations>' if flags else ''}"
        f"{'<industryClassification>' + classification + '</industryClassification>' if classification else ''}"
        "</fileDetails>"
    ).encode()


@pytest.fixture
def file_report(tmp_path, docs):
    """file_report(provider, [bytes, ...], xml=..., details={index: fileDetails kwargs}) -> Case:
    a report filed through the intake functions (the same ones the /ispws/ views call) and finished."""
    from openmnr.industry import intake
    from openmnr.industry.importer import _spooled

    counter = iter(range(1_000_000))

    def file(provider, files=(), *, xml=None, details=None):
        report = intake.submit(provider.user, xml or docs.report())
        ids = []
        for data in files:
            path = tmp_path / f"upload-{next(counter)}.jpg"
            path.write_bytes(data)
            ids.append(intake.upload(provider.user, report.pk, _spooled(path)).file_id)
        for index, kwargs in (details or {}).items():
            intake.fileinfo(provider.user, docs.details(report.pk, ids[index], **kwargs))
        report, _ids = intake.finish(provider.user, report.pk)
        return report.case

    return file
