"""Who must confirm before a bank's entries are matched: no single person makes a hash matchable
by others.

- A bank of confirmed CSAM: ``BANKS_CONFIRMATIONS_REQUIRED`` (at least two) senior analysts other
  than whoever proposed or imported it (four eyes).
- Any other bank that is *shared*, matched by industry members or partner hotlines (a role that is
  not a staff role in its ``match_roles``, or any account in ``match_accounts``): one senior
  analyst other than the proposer or importer. A partner's list goes live only once a second
  person has looked at it and its provenance.
- A bank matched by staff only (not shared): active at once; only staff see what it matches.
- The self-reported bank (survivors' own hashes from the Take it down page) is the one shared bank
  whose entries are matched at once, by design: nobody here has seen the material, the person
  pictured is the source, and its action class tells platforms to review before removing. Its
  entries reach a confirmed bank only through the four eyes (docs/survivors.md).

A bank may become shared only while every active entry in it was confirmed by someone other than
who added it (``unconfirmed_active``); otherwise sharing it would let one person's additions reach
industry after the fact.
"""

from django.conf import settings
from django.db.models import Exists, OuterRef

from openmnr.accounts.roles import ROLE_BY_NAME


def is_shared(bank) -> bool:
    """Matched by someone outside the staff: an API-only role or a listed account."""
    if any(not ROLE_BY_NAME[name].staff for name in bank.match_roles if name in ROLE_BY_NAME):
        return True
    return bank.pk is not None and bank.match_accounts.exists()


def confirmations_needed(bank) -> int:
    from .models import NEEDS_CONFIRMATION, Purpose

    if bank.purpose == Purpose.SURVIVOR_REPORTED:
        return 0
    if bank.purpose in NEEDS_CONFIRMATION:
        return settings.BANKS_CONFIRMATIONS_REQUIRED
    return 1 if is_shared(bank) else 0


def unconfirmed_active(bank) -> int:
    """How many of the bank's active entries were never confirmed by a second person (none count in
    the self-reported bank, whose entries are matched at once by design)."""
    from .models import BankEntry, Confirmation, Purpose

    if bank.purpose == Purpose.SURVIVOR_REPORTED:
        return 0

    confirmed_entry = Confirmation.objects.filter(entry=OuterRef("pk"))
    confirmed_batch = Confirmation.objects.filter(batch=OuterRef("batch"))
    return (
        BankEntry.objects.filter(bank=bank, status=BankEntry.Status.ACTIVE)
        .exclude(Exists(confirmed_entry))
        .exclude(Exists(confirmed_batch))
        .count()
    )
