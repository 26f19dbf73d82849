from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    """Hotline-to-hotline exchange: the ICCAM API 3 connector and OpenMNR federation."""

    name = "openmnr.exchange"
    label = "exchange"

    def ready(self) -> None:
        from . import hooks

        hooks.connect()
