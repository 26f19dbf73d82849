"""The law-enforcement queue: risk order with its reasons, countries from every source, linked
reports, forwarding, known material never shown, referral packages and outcomes."""

import io
import zipfile

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from openmnr.core import referral
from openmnr.industry import cases, triage
from openmnr.industry.models import Case


@pytest.fixture
def country_db(tmp_path, settings):
    """A GeoIP country database: 198.51.100.0/24 in PT (ours), 203.0.113.0/24 in FR."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["198.51.100.0/24"]), {"country": {"iso_code": "PT"}})
    writer.insert_network(IPSet(["203.0.113.0/24"]), {"country": {"iso_code": "FR"}})
    path = tmp_path / "country.mmdb"
    writer.to_db_file(str(path))
    settings.TAKEDOWN_COUNTRY_DB = str(path)
    triage.jurisdiction._geo.cache_clear()
    yield path
    triage.jurisdiction._geo.cache_clear()


@pytest.mark.django_db
def test_the_queue_puts_escalation_new_material_and_children_here_first(
    provider, known_bank, file_report, docs, country_db
):
    known_only = file_report(provider, [docs.known], xml=docs.report(reported_id="a"))
    new_abroad = file_report(provider, [docs.new], xml=docs.report(reported_id="b", victim_country="FR"))
    new_victim_here = file_report(provider, [docs.new], xml=docs.report(reported_id="c", phone_code="+351"))
    new_reported_here = file_report(provider, [docs.new], xml=docs.report(reported_id="d", ip="198.51.100.7"))
    escalated_known = file_report(
        provider, [docs.known], xml=docs.report(reported_id="e", escalate="ongoing")
    )

    home = list(cases.queue())
    assert home == [escalated_known, new_victim_here, new_reported_here, known_only]
    assert list(cases.queue(home=False)) == [new_abroad]  # for forwarding: concerns FR only

    reasons = {case.pk: case.reasons for case in Case.objects.all()}
    assert reasons[escalated_known.pk][0] == "Escalated by the provider: ongoing"
    assert "All 1 file are known material" in reasons[known_only.pk][0]
    assert any("A victim in PT (phone)" == r for r in reasons[new_victim_here.pk])
    assert any("The reported person in PT (IP address)" == r for r in reasons[new_reported_here.pk])
    assert new_abroad.countries == ["FR"] and not new_abroad.concerns_home


@pytest.mark.django_db
def test_the_queue_pages_show_the_order_and_the_reasons(
    provider, known_bank, file_report, docs, staff_client
):
    known_only = file_report(provider, [docs.known], xml=docs.report(reported_id="a"))
    new_here = file_report(provider, [docs.new], xml=docs.report(reported_id="c", victim_country="PT"))
    abroad = file_report(provider, [docs.new], xml=docs.report(reported_id="b", victim_country="FR"))
    client, _ = staff_client("law_enforcement")
    page = client.get("/staff/industry/")
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert text.index(f"IR-{new_here.report_id}<") < text.index(f"IR-{known_only.report_id}<")
    assert "A victim in PT (address)" in text and f"IR-{abroad.report_id}<" not in text
    forwarding = client.get("/staff/industry/forwarding/").content.decode()
    assert f"IR-{abroad.report_id}<" in forwarding and f"IR-{new_here.report_id}<" not in forwarding


@pytest.mark.django_db
def test_more_new_files_and_prior_reports_rank_higher(provider, known_bank, file_report, docs):
    one = file_report(provider, [docs.new], xml=docs.report(reported_id="x"))
    two = file_report(provider, [docs.new, docs.other], xml=docs.report(reported_id="y"))
    again = file_report(provider, [docs.new], xml=docs.report(reported_id="x"))  # same account as `one`
    assert again.prior_reports == 1 and "1 prior report of the same account" in again.reasons
    assert list(cases.queue()) == [two, again, one]


@pytest.mark.django_db
def test_reports_of_the_same_account_or_the_same_files_are_grouped(
    provider, make_provider, known_bank, file_report, docs, staff_client
):
    first = file_report(provider, [docs.new], xml=docs.report(reported_id="same"))
    same_account = file_report(provider, [docs.other], xml=docs.report(reported_id="same"))
    other_provider = make_provider()
    same_file = file_report(other_provider, [docs.other], xml=docs.report(reported_id="else"))
    unrelated = file_report(provider, [docs.known], xml=docs.report(reported_id="nobody"))
    # The same identifier at another provider is another account.
    elsewhere = file_report(other_provider, [docs.known], xml=docs.report(reported_id="same"))

    group = triage.linked_cases(first)
    assert [c.pk for c in group][0] == first.pk
    assert {c.pk for c in group} == {first.pk, same_account.pk, same_file.pk}
    assert unrelated.pk not in {c.pk for c in group} and elsewhere.pk not in {c.pk for c in group}

    client, _ = staff_client("law_enforcement")
    page = client.get(f"/staff/industry/cases/{first.pk}/group/").content.decode()
    assert f"IR-{same_file.report_id}" in page and f"IR-{unrelated.report_id}" not in page


@pytest.mark.django_db
def test_known_material_is_never_shown_and_new_material_only_after_step_up(
    provider, known_bank, file_report, docs, staff_client, settings, tmp_path
):
    from openmnr.core.evidence import generate_key

    settings.KEEP_EVIDENCE, settings.EVIDENCE_KEY = True, generate_key()
    case = file_report(provider, [docs.known, docs.new])
    known, new = sorted(case.report.files.all(), key=lambda f: not f.matched)
    assert known.matched and known.evidence_id and new.thumbnail_id

    client, officer = staff_client("law_enforcement")
    assert "never shown" in client.get(f"/staff/industry/files/{known.pk}/").content.decode()
    client.post(f"/staff/industry/files/{known.pk}/reveal/")
    assert client.get(f"/staff/industry/files/{known.pk}/media/").status_code == 404
    assert client.get(f"/staff/industry/files/{known.pk}/thumbnail/").status_code == 404

    assert client.get(f"/staff/industry/files/{new.pk}/media/").status_code == 404  # not revealed
    thumb = client.get(f"/staff/industry/files/{new.pk}/thumbnail/")
    assert thumb.status_code == 200 and "no-store" in thumb["Cache-Control"]

    session = client.session
    from openmnr.accounts.stepup import SESSION_KEY

    session[SESSION_KEY] = 0  # the second factor is old: reveal needs a fresh one
    session.save()
    response = client.post(f"/staff/industry/files/{new.pk}/reveal/")
    assert response.status_code == 302 and "/accounts/step-up/" in response["Location"]
    assert client.get(f"/staff/industry/files/{new.pk}/media/").status_code == 404

    from helpers import sign_in_client

    sign_in_client(client, officer)  # fresh second factor
    response = client.post(f"/staff/industry/files/{new.pk}/reveal/")  # POST-redirect-GET
    assert response.status_code == 302 and response["Location"] == f"/staff/industry/files/{new.pk}/"
    shown = client.get(f"/staff/industry/files/{new.pk}/media/")
    assert shown.status_code == 200 and shown.content == docs.new and "no-store" in shown["Cache-Control"]
    from openmnr.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="industry.file.reveal", actor=officer.username).count() == 1
    response = client.post(f"/staff/industry/files/{new.pk}/hide/")
    assert response.status_code == 302 and response["Location"] == f"/staff/industry/files/{new.pk}/"
    assert client.get(f"/staff/industry/files/{new.pk}/media/").status_code == 404


@pytest.mark.django_db
def test_export_a_signed_referral_package_and_mark_the_outcome(
    provider, known_bank, file_report, docs, staff_client, tmp_path, signing_key
):
    case = file_report(provider, [docs.known, docs.new], xml=docs.report(victim_country="PT"))
    client, officer = staff_client("law_enforcement")
    response = client.post(f"/staff/industry/cases/{case.pk}/export/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "no-store" in response["Cache-Control"]
    package = tmp_path / "package.zip"
    package.write_bytes(response.content)
    checked = referral.verify(package, signing_key.public_key())
    manifest = checked.manifest
    assert manifest["case"]["reference"] == f"IR-{case.report_id}" and manifest["case"]["new_files"] == 1
    assert manifest["case"]["countries"] == ["PT"]
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert not any(n.startswith("evidence/") for n in names)  # no recipient key: no signals, no document
    case.refresh_from_db()
    assert case.state == "referred"

    from helpers import sign_in_client

    analyst_client, _ = staff_client("analyst")  # the same test client, now signed in as an analyst
    assert (
        analyst_client.post(
            f"/staff/industry/cases/{case.pk}/outcome/", {"outcome": "investigation"}
        ).status_code
        == 403
    )
    sign_in_client(client, officer)
    response = client.post(
        f"/staff/industry/cases/{case.pk}/outcome/", {"outcome": "investigation", "note": "op. X"}
    )
    assert response.status_code == 302 and response["Location"] == f"/staff/industry/cases/{case.pk}/"
    case.refresh_from_db()
    assert (case.state, case.outcome, case.outcome_by) == ("closed", "investigation", officer)
    assert [t.to_state for t in case.transitions.all()] == ["referred", "closed"]


@pytest.mark.django_db
def test_statistics_and_live_indicators(provider, known_bank, file_report, docs, staff_client, make_provider):
    from datetime import date

    from openmnr.assessment.indicators import compute

    assert compute("industry.reports_received", date(2020, 1, 1), date.today()) is None  # no data yet
    first = file_report(provider, [docs.new])
    file_report(make_provider(), [docs.known])
    client, _ = staff_client("law_enforcement")
    client.get(f"/staff/industry/cases/{first.pk}/")  # first police view

    today = date.today()
    assert compute("industry.reports_received", today, today).value == 2
    assert compute("industry.providers_reporting", today, today).value == 2
    assert compute("industry.new_material_share", today, today).value == 50.0
    assert compute("industry.first_police_view_hours", today, today).value is not None
    coordinator, _ = staff_client("national_coordinator")
    page = coordinator.get("/staff/industry/statistics/")
    assert page.status_code == 200 and "50.0 %" in page.content.decode()
    assert coordinator.get("/staff/industry/").status_code == 403


@pytest.mark.django_db
def test_every_signal_is_computed_and_nothing_of_the_bytes_stays(
    provider, file_report, docs, shared, settings
):
    """A picture gets PDQ, MD5 and SHA-256; a video vPDQ; a chat log MD5 and SHA-256 only; with
    evidence off, nothing of any file is left on disk."""
    import hashlib

    video = (shared / "vectors" / "pdq" / "video" / "test-padded-dimensions.mp4").read_bytes()
    log = b"12:01 <user-1> meet me tonight\n"
    case = file_report(provider, [docs.new, video, log])
    picture, clip, text = case.report.files.order_by("pk")
    assert picture.media_type == "photo" and len(picture.pdq) == 64 and picture.pdq_quality is not None
    assert (
        picture.md5 == hashlib.md5(docs.new).hexdigest()
        and picture.sha256 == hashlib.sha256(docs.new).hexdigest()
    )
    assert clip.media_type == "video" and clip.vpdq.count("\n") >= 1 and not clip.pdq
    assert text.media_type == "" and not text.pdq and "MD5 and SHA-256 only" in text.error
    assert case.new_files == 3
    assert not any(p.is_file() for p in settings.INDUSTRY_SPOOL_DIR.rglob("*"))
    assert not settings.EVIDENCE_DIR.exists() or not any(
        p.is_file() for p in settings.EVIDENCE_DIR.rglob("*")
    )
    assert not any(f.evidence_id for f in (picture, clip, text))


@pytest.mark.django_db
@pytest.mark.parametrize("dihedral", [True, False])
def test_a_turned_copy_of_known_material_is_known_unless_the_setting_is_off(
    settings, provider, known_bank, file_report, docs, dihedral
):
    from PIL import Image

    settings.MATCH_DIHEDRAL = dihedral
    out = io.BytesIO()
    Image.open(io.BytesIO(docs.known)).transpose(Image.Transpose.ROTATE_270).save(out, "JPEG", quality=85)
    case = file_report(provider, [out.getvalue()], xml=docs.report(reported_id="turned"))
    [file] = case.report.files.all()
    assert file.matched is dihedral
    assert [m["signal_type"] for m in file.match_detail] == (["pdq"] if dihedral else [])
    if dihedral:
        assert file.auto_assessed and file.match_detail[0]["distance"] <= 8


def test_a_filed_report_leaves_two_audit_events_that_say_what_was_matched(
    provider, known_bank, file_report, docs
):
    from openmnr.audit.models import AuditEvent

    triage.service_account()  # made once, on first use, with its own role.change event
    first = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    case = file_report(provider, [docs.known, docs.new])
    events = list(AuditEvent.objects.filter(seq__gt=first).order_by("seq"))
    assert [e.action for e in events] == ["industry.report.open", "industry.report.finished"]
    finished = events[1]
    assert finished.actor == provider.user.username and finished.object_id == str(case.report_id)
    assert finished.detail["matched_as"] == triage.SERVICE_ACCOUNT
    assert (finished.detail["files"], finished.detail["matched"], finished.detail["known"]) == (2, 1, 1)
    hashes = {v for f in case.report.files.all() for v in (f.md5, f.sha256, f.pdq) if v}
    assert not any(h in str(finished.detail) for h in hashes)
    assert (case.known_files, case.new_files) == (1, 1)
