"""The staff match page: an analyst checks a picture or a hash against the banks they may match,
sees what matched, and nothing of the upload is kept."""

import html
import io
import re

import pytest
from django.test import Client

from helpers import bank_with_image, sign_in_client
from openmnr.audit.models import AuditEvent
from openmnr.banks import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def listed(shared):
    natural = shared / "corpus" / "natural"
    return (natural / "astronaut-01.jpg").read_bytes(), (natural / "chelsea-03.jpg").read_bytes()


@pytest.fixture
def known(make_bank, make_user, seniors, listed):
    """A bank of confirmed material holding the first picture's PDQ and MD5, confirmed twice."""
    bank = make_bank(name="Confirmed CSAM (test stand-ins)")
    return bank, bank_with_image(bank, listed[0], make_user("analyst"), seniors)


def picture(data: bytes):
    file = io.BytesIO(data)
    file.name = "upload.jpg"
    return file


def test_a_known_picture_shows_its_bank_and_entries(staff_client, known, listed):
    bank, _hashes = known
    client, _ = staff_client("analyst")
    page = client.post("/staff/banks/match/", {"file": picture(listed[0])})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Match: <strong>Confirmed CSAM</strong>" in html and "confirmed_csam" not in html
    assert bank.name in html and html.count("<td>Baseline (illegal in every country) (demo)</td>") == 2
    # The hashes computed from the upload are shown back (its PDQ and MD5 among them).
    computed = html.split('id="computed-hashes"')[1].split("</table>")[0]
    assert _hashes["pdq"].value in computed and _hashes["md5"].value in computed
    assert AuditEvent.objects.filter(action="banks.match", detail__matched=1).count() == 1

    other = client.post("/staff/banks/match/", {"file": picture(listed[1])}).content.decode()
    assert "No match in the banks you may match." in other and bank.name not in other


def test_a_pasted_hash_is_matched_and_bad_input_is_explained(staff_client, known):
    _bank, hashes = known
    client, _ = staff_client("senior_analyst")
    found = client.post("/staff/banks/match/", {"md5": hashes["md5"].value})
    assert "Match: <strong>Confirmed CSAM</strong>" in found.content.decode()
    # As the API takes them: upper case, spaces between groups.
    pdq = hashes["pdq"].value.upper()
    spaced = " ".join(pdq[i : i + 8] for i in range(0, 64, 8))
    tolerant = client.post("/staff/banks/match/", {"pdq": spaced})
    assert tolerant.status_code == 200, tolerant.content.decode()
    assert "Match: <strong>Confirmed CSAM</strong>" in tolerant.content.decode()
    assert hashes["pdq"].value in tolerant.content.decode().split('id="computed-hashes"')[1]
    assert "No match" in client.post("/staff/banks/match/", {"md5": "0" * 32}).content.decode()

    bad = client.post("/staff/banks/match/", {"pdq": "zz" + "0" * 62})
    summary = bad.content.decode().split('class="error-summary"')[1].split("</div>")[0]
    assert (
        bad.status_code == 400
        and "PDQ hash is 64 hexadecimal digits" in summary
        and "zz" + "0" * 62 not in summary
    )
    both = client.post("/staff/banks/match/", {"md5": "0" * 32, "file": picture(b"x")})
    assert both.status_code == 400 and "either a file or at least one hash" in both.content.decode()
    broken = client.post("/staff/banks/match/", {"file": picture(b"not a picture at all")})
    assert broken.status_code == 400 and "There is a problem" in broken.content.decode()


def test_a_bank_the_role_may_not_match_is_never_shown(staff_client, make_bank, make_user, seniors, listed):
    bank = make_bank(name="Seniors only", match_roles=["senior_analyst"])
    md5 = services.hash_upload(listed[0])["md5"].value
    entry = services.propose_entry(
        bank, signal_type="md5", value=md5, classification="baseline", by=seniors[0]
    )
    services.confirm_entry(entry, by=seniors[1])
    services.confirm_entry(entry, by=make_user("senior_analyst"))
    client, _ = staff_client("analyst")
    page = client.post("/staff/banks/match/", {"md5": md5}).content.decode()
    assert "No match in the banks you may match." in page and "Seniors only" not in page


def test_the_form_needs_its_csrf_token_and_industry_members_have_no_page(make_user, staff_client):
    client = Client(enforce_csrf_checks=True)
    sign_in_client(client, make_user("analyst"))
    assert client.post("/staff/banks/match/", {"md5": "0" * 32}).status_code == 403
    page = client.get("/staff/banks/match/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()

    industry, _ = staff_client("industry_member")
    assert industry.get("/staff/banks/match/").status_code == 403


def test_an_uploaded_video_is_shown_with_its_frames_and_can_be_proposed_to_a_bank(
    staff_client, make_bank, make_user, seniors, shared
):
    from openmnr.banks.models import BankEntry

    bank = make_bank(name="Confirmed CSAM (video stand-ins)")
    video = (shared / "vectors" / "pdq" / "video" / "doorknob-hd-no-bar.mp4").read_bytes()
    client, analyst = staff_client("analyst")
    upload = io.BytesIO(video)
    upload.name = "clip.mp4"
    page = client.post("/staff/banks/match/", {"file": upload}).content.decode()
    assert "No match in the banks you may match." in page
    computed = page.split('id="computed-hashes"')[1].split("</table>")[0]
    assert "frame hash(es)" in computed
    form = page.split('id="propose-video-heading"')[1]
    value = re.search(r'name="value" value="([^"]+)"', form).group(1)
    proposed = client.post(
        "/staff/banks/match/propose-video/",
        {"bank": bank.pk, "value": html.unescape(value), "classification": "baseline", "source_ref": "test"},
        follow=True,
    )
    assert proposed.redirect_chain[-1][0] == f"/staff/banks/{bank.pk}/"
    assert "waits for confirmation" in proposed.content.decode()
    entry = BankEntry.objects.get(bank=bank, signal_type="vpdq")
    assert entry.status == BankEntry.Status.PENDING and entry.proposed_by == analyst
    for senior in seniors:
        services.confirm_entry(entry, by=senior)
    again = io.BytesIO(video)
    again.name = "clip.mp4"
    matched = client.post("/staff/banks/match/", {"file": again}).content.decode()
    assert "Match: <strong>Confirmed CSAM</strong>" in matched and bank.name in matched

    # The same video twice is refused as an error, not shown as a success.
    twice = client.post(
        "/staff/banks/match/propose-video/",
        {"bank": bank.pk, "value": html.unescape(value), "classification": "baseline"},
        follow=True,
    ).content.decode()
    assert '<li class="error" role="alert"><strong>Not done:</strong> The video was not proposed' in twice
