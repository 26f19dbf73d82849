import pytest


@pytest.fixture(scope="session")
def live_server(django_db_setup, django_db_blocker):
    """pytest-django's live server with plain HTTP (as tests/survivors does)."""
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock(), override_settings(SECURE_SSL_REDIRECT=False, SECURE_HSTS_SECONDS=0):
        server = LiveServer("127.0.0.1")
        yield server
        server.stop()


@pytest.fixture
def partner_server():
    """A partner OpenMNR's export endpoint on 127.0.0.1 (blocking/partner_server.py)."""
    from blocking.partner_server import PartnerServer

    server = PartnerServer()
    yield server
    server.close()
