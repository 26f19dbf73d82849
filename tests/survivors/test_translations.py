"""The Portuguese catalogue of the Take it down page: compiled (the .mo in the repository matches its
.po, so no gettext tools are needed to run OpenMNR) and complete (every message has a translation),
and the public pages speak it."""

import gettext
import re
from pathlib import Path

import pytest

import openmnr.survivors

LOCALE = Path(openmnr.survivors.__file__).parent / "locale" / "pt_BR" / "LC_MESSAGES"


def _po_messages() -> dict[str, str]:
    text = (LOCALE / "django.po").read_text()
    pairs = re.findall(r'\nmsgid ((?:"[^\n]*"\n)+)msgstr ((?:"[^\n]*"\n?)+)', text)

    def join(block: str) -> str:
        return (
            "".join(re.findall(r'"(.*)"', block)).encode().decode("unicode_escape").encode("latin-1").decode()
        )

    return {join(msgid): join(msgstr) for msgid, msgstr in pairs if join(msgid)}


def test_the_compiled_catalogue_matches_its_source_and_is_complete():
    messages = _po_messages()
    assert len(messages) > 100
    assert all(messages.values()), [k for k, v in messages.items() if not v]
    with (LOCALE / "django.mo").open("rb") as file:
        compiled = gettext.GNUTranslations(file)
    for msgid, msgstr in messages.items():
        assert compiled.gettext(msgid) == msgstr, msgid


@pytest.mark.django_db
def test_the_public_pages_speak_portuguese(client):
    page = client.get("/take-it-down/", headers={"accept-language": "pt-BR"}).content.decode()
    assert "Tire do ar" in page and "Suas fotos nunca saem do seu aparelho." in page
    assert "Your pictures never leave" not in page
    status = client.get("/take-it-down/status/", headers={"accept-language": "pt-BR"}).content.decode()
    assert "O seu código" in status
    landing = client.get("/", headers={"accept-language": "pt-BR"}).content.decode()
    assert "Fotos suas?" in landing and 'href="/take-it-down/"' in landing
