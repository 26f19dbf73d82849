"""The optional contact address: encrypted at rest, used only for vague updates, deleted with the case.

A survivor may leave an e-mail address to hear when a platform reports a removal. The address is
the only personal data the app holds, so it is kept apart from the case (``Contact``), encrypted
with Fernet (AES-128-CBC and HMAC-SHA256, from ``cryptography``) under SURVIVORS_CONTACT_KEY from
the environment, shown to nobody, and deleted in the transaction that withdraws or closes the case.
In demo mode a key is generated under VAR_DIR/keys/ on first use; without a key outside demo mode
the page does not ask for an address at all.

The update itself says as little as possible: someone else may read the person's mail (the very
person threatening them, or a parent they have not told). No subject about pictures, no code, no
link with the code in it: only that there is news, and where to look with the code they kept. At
most one a day per case.
"""

import os
from datetime import timedelta
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from .models import Case, Contact
from .states import CaseState

NOTIFY_EVERY = timedelta(days=1)
SUBJECT = "An update on your request"
BODY = """Hello,

There is news about the request you made on our website. To see it, open {url} and enter the code
you were given.

If you did not make a request, you can ignore this message.
"""


class ContactKeyMissing(Exception):
    """No key to encrypt contact addresses with (outside demo mode, and none configured)."""


def _key_path() -> Path:
    return Path(settings.VAR_DIR) / "keys" / "survivors-contact.key"


def _key() -> bytes:
    if settings.SURVIVORS_CONTACT_KEY:
        return settings.SURVIVORS_CONTACT_KEY.encode()
    path = _key_path()
    if not path.exists():
        if not settings.DEBUG:
            raise ContactKeyMissing("set OPENMNR_SURVIVORS_CONTACT_KEY to accept contact addresses")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes generating at once keep the first key.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(Fernet.generate_key())
    return path.read_bytes().strip()


def enabled() -> bool:
    """Whether the page may ask for a contact address."""
    try:
        Fernet(_key())
    except (ContactKeyMissing, ValueError):
        return False
    return True


def seal(address: str) -> str:
    return Fernet(_key()).encrypt(address.encode()).decode()


def unseal(token: str) -> str:
    try:
        return Fernet(_key()).decrypt(token.encode()).decode()
    except InvalidToken:
        raise ContactKeyMissing("the contact key has changed; this address cannot be read") from None


def notify(case_id: int) -> bool:
    """Send the update e-mail of an open case if it has an address and none went out in the last
    day. Returns whether one was sent. Run from the task queue (tasks.notify_case)."""
    with transaction.atomic():
        contact = (
            Contact.objects.select_for_update()
            .filter(case_id=case_id, case__state=CaseState.OPEN)
            .select_related("case")
            .first()
        )
        if contact is None:
            return False
        now = timezone.now()
        if contact.notified_at is not None and contact.notified_at > now - NOTIFY_EVERY:
            return False
        address = unseal(contact.sealed)
        url = settings.TAKEDOWN_PUBLIC_URL + reverse("survivors:status")
        EmailMessage(SUBJECT, BODY.format(url=url), settings.SURVIVORS_FROM_EMAIL, [address]).send()
        contact.notified_at = now
        contact.save(update_fields=["notified_at"])
    return True


def forget(case: Case) -> bool:
    """Delete the case's address (in the caller's transaction); whether there was one."""
    deleted, _ = Contact.objects.filter(case=case).delete()
    return bool(deleted)
