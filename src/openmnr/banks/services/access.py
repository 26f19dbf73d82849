"""Who may see and match which bank, and the one place a bank and its audience are changed.

A bank is open to the roles in its ``match_roles`` and to the accounts in its ``match_accounts``
(an industry member, a partner hotline: their API keys act for them). Staff see and curate only
the banks their role may match; administrators, who create banks and set these, see all of them.
"""

from django.db import transaction

from openmnr.accounts.roles import roles_of
from openmnr.audit import services as audit

from .. import sharing
from ..errors import NotAllowed, audited_refusal
from ..models import Bank


def allowed_bank_ids(user) -> set[int]:
    """Banks whose match_roles include one of the user's roles, or that list the user's account.

    For API keys pass the key's owner: a key acts with its owner's role and account.
    """
    roles = set(roles_of(user))
    by_role = {pk for pk, names in Bank.objects.values_list("pk", "match_roles") if roles & set(names)}
    by_account = Bank.match_accounts.through.objects.filter(user_id=user.pk).values_list("bank_id", flat=True)
    return by_role | set(by_account)


def visible_banks(user):
    """The banks a staff user may see: all of them for administrators, else those they may match."""
    if user.has_perm("banks.manage_banks"):
        return Bank.objects.all()
    return Bank.objects.filter(pk__in=allowed_bank_ids(user))


def require(user, permission: str, bank: Bank | None = None) -> None:
    """Raise ``NotAllowed`` unless ``user`` holds ``permission`` (and may see ``bank``, if given)."""
    if not user.has_perm(permission):
        raise NotAllowed("your role may not do that")
    if bank is not None and not visible_banks(user).filter(pk=bank.pk).exists():
        raise NotAllowed("you may not work on this bank")


def save_bank(bank: Bank, *, match_accounts, by, request=None) -> Bank:
    """Create or change a bank (its fields already set by the caller) and who may match it. A bank
    may be shared with industry or partners only if no active entry of it lacks a second person's
    confirmation (sharing.py)."""
    with audited_refusal("bank.save", by=by, obj=bank if bank.pk else None, request=request):
        require(by, "banks.manage_banks")
        with transaction.atomic():
            created = bank.pk is None
            if created:
                bank.created_by = by
            bank.save()
            bank.match_accounts.set(match_accounts)
            if sharing.is_shared(bank) and (unconfirmed := sharing.unconfirmed_active(bank)):
                raise NotAllowed(
                    f"{unconfirmed} active entries of this bank were never confirmed by a second person: "
                    "disable them, or keep the bank for staff only"
                )
            audit.record(
                "bank.create" if created else "bank.change",
                request=request,
                actor=by,
                obj=bank,
                detail={
                    "purpose": bank.purpose,
                    "enabled": bank.enabled,
                    "match_roles": sorted(bank.match_roles),
                    "match_accounts": sorted(user.get_username() for user in match_accounts),
                },
            )
    return bank
