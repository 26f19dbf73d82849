from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff accounts, roles, the second factor, sign-in throttling, step-up and API keys."""

    name = "openmnr.accounts"
    label = "accounts"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import apikeys, audit_hooks, roles

        roles.register_roles()
        audit_hooks.connect()
        apikeys.connect()
        post_migrate.connect(roles.sync_roles_after_migrate)
