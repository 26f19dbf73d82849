"""`openmnr industry import PATH...`: reports filed elsewhere, with their files beside them, join the
same triage; importing again adds nothing."""

import pytest

from openmnr.cli import main
from openmnr.industry.models import Case, File, Report


@pytest.fixture
def referrals(tmp_path, docs):
    folder = tmp_path / "referrals"
    folder.mkdir()
    (folder / "81234567.xml").write_bytes(docs.report(escalate="child in danger", victim_country="PT"))
    files = folder / "81234567"
    files.mkdir()
    (files / "known.jpg").write_bytes(docs.known)
    (files / "new.jpg").write_bytes(docs.new)
    (files / "new.xml").write_bytes(
        b"<fileDetails><reportId>81234567</reportId><fileId>ncmec-2</fileId><fileName>new.jpg</fileName>"
        b"<fileAnnotations><liveStreaming>true</liveStreaming></fileAnnotations>"
        b"<industryClassification>B1</industryClassification></fileDetails>"
    )
    (folder / "81234568.xml").write_bytes(docs.report(reported_id="other"))
    (folder / "81234569.xml").write_bytes(b"<report><reporter/></report>")
    return folder


@pytest.mark.django_db(transaction=True)
def test_import_is_triaged_like_the_api_and_idempotent(referrals, known_bank, capsys):
    assert main(["industry", "import", str(referrals)]) == 1  # one of the three is refused
    out = capsys.readouterr().out
    assert "2 imported, 0 skipped, 1 refused" in out
    assert "81234569.xml" in out and "Validation failed" in out

    report = Report.objects.get(external_id="81234567")
    assert report.source == "import" and report.state == "finished" and report.provider is None
    case = Case.objects.get(report=report)
    assert (case.new_files, case.known_files) == (1, 1)
    assert case.reasons[0] == "Escalated by the provider: child in danger"
    new = File.objects.get(report=report, name="new.jpg")
    assert new.classification == "B1" and new.flags == ["live_streamed"]

    counts = Report.objects.count(), File.objects.count(), Case.objects.count()
    assert main(["industry", "import", str(referrals / "81234567.xml"), str(referrals / "81234568.xml")]) == 0
    assert "0 imported, 2 skipped" in capsys.readouterr().out
    assert (Report.objects.count(), File.objects.count(), Case.objects.count()) == counts


@pytest.mark.django_db(transaction=True)
def test_credentials_command_issues_lists_and_revokes(make_user, capsys):
    from openmnr.industry import credentials

    make_user("industry_member", username="acme")
    assert main(["industry", "credentials", "--issue", "acme"]) == 0
    printed = capsys.readouterr().out
    username = printed.split()[1]
    password = printed.split()[3]
    import base64

    header = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    assert credentials.authenticate(header).provider.username == "acme"
    assert main(["industry", "credentials", "--list"]) == 0
    assert password not in capsys.readouterr().out
    assert main(["industry", "credentials", "--revoke", username]) == 0
    assert credentials.authenticate(header) is None
    make_user("analyst", username="not-a-provider")
    assert main(["industry", "credentials", "--issue", "not-a-provider"]) == 2
