from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Staff accounts, roles, the second factor, sign-in throttling, step-up and API keys."""

    name = "openmnr.accounts"
    label = "accounts"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import audit_hooks, roles

        roles.register_roles()
        audit_hooks.connect()
        post_migrate.connect(roles.sync_roles_after_migrate)
