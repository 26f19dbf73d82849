"""Routing as data: an administrator edits the rules and the directory on the administration site
(checked and audited), and the core's route() applies them: home -> host and police, abroad ->
partner or international fallback, behind a CDN -> the CDN plus an analyst, unknown -> an analyst,
who can then route the case by hand."""

import json

import pytest
from django.core.exceptions import ValidationError

from openmnr.audit.models import AuditEvent
from openmnr.takedown import services
from openmnr.takedown.models import DirectoryEntry, Policy, TakedownCase

pytestmark = pytest.mark.django_db

ZONE = {
    ("example.pt", "A"): ["203.0.113.7"],
    ("shop.example.de", "A"): ["192.0.2.9"],
    ("shop.example.org", "CNAME"): ["shop.example.org.cdn.cloudflare.net."],
    ("shop.example.org.cdn.cloudflare.net", "A"): ["198.51.100.20"],
}


@pytest.fixture
def world(rdap, static_tracer, tools, always):
    rdap.network("203.0.113.7", "abuse@hosting.test")
    rdap.network("192.0.2.9", "abuse@other-hosting.test")
    rdap.network("198.51.100.20", "abuse@cloudflare.test")
    return tools(tracer=static_tracer(ZONE), check=always("online"))


def _routed(assessed_case, world, clock, url):
    case = assessed_case(url, known=True)
    services.tick(clock.now, tools=world)
    return TakedownCase.objects.get(pk=case.pk)


def test_administrator_edits_the_rules_which_are_checked_and_audited(
    staff_client, world, assessed_case, clock
):
    client, admin = staff_client("administrator")
    Policy.current()
    url = "/admin/takedown/policy/1/change/"
    assert client.get(url).status_code == 200

    bad = [{"name": "wipe", "when": {}, "then": ["delete_everything"]}]
    response = client.post(url, {"rules": json.dumps(bad), "legal_text_en": "", "legal_text_pt": ""})
    assert (
        response.status_code == 200
        and "unknown action &#x27;delete_everything&#x27;" in response.content.decode()
    )
    assert Policy.current().rules[0]["name"] == "hosted in our country"

    rules = [{"name": "everything to an analyst", "when": {}, "then": ["analyst_decides"]}]
    response = client.post(
        url, {"rules": json.dumps(rules), "legal_text_en": "Act 1.", "legal_text_pt": "Lei 1."}
    )
    assert response.status_code == 302
    assert Policy.current().rules == rules
    event = AuditEvent.objects.get(action="takedown.policy.change")
    assert event.actor == admin.username and "rules" in event.detail["fields"]

    takedown = _routed(assessed_case, world, clock, "https://example.pt/a")
    assert takedown.status == "analyst" and [a["kind"] for a in takedown.actions] == ["analyst_decides"]

    response = client.post(
        "/admin/takedown/directoryentry/add/",
        {
            "kind": "partner",
            "name": "Parceiro",
            "country": "br",
            "emails": "denuncias@parceiro.test",
            "language": "pt",
            "active": "on",
        },
    )
    assert response.status_code == 302
    entry = DirectoryEntry.objects.get(name="Parceiro")
    assert entry.country == "BR" and len(entry.webhook_secret) >= 40
    assert AuditEvent.objects.filter(action="takedown.directory.add", object_id=str(entry.pk)).exists()


def test_the_directory_refuses_entries_routing_could_not_use(directory):
    partner = DirectoryEntry(kind="partner", name="No country", emails="x@partner.test")
    with pytest.raises(ValidationError, match="country"):
        partner.full_clean()
    plain_http = DirectoryEntry(kind="partner", name="P", country="BR", api_url="http://partner.example/api")
    with pytest.raises(ValidationError, match="https"):
        plain_http.full_clean()
    police = DirectoryEntry(
        kind="law_enforcement", name="Police", emails="p@police.test", recipient_key="not a key"
    )
    with pytest.raises(ValidationError, match="PEM"):
        police.full_clean()


def test_hosted_abroad_goes_to_the_partner_or_else_the_international_fallback(
    directory, world, assessed_case, clock
):
    entries = directory()
    takedown = _routed(assessed_case, world, clock, "https://shop.example.de/1")
    assert [(a["kind"], a["to"]["name"]) for a in takedown.actions] == [
        ("forward_partner", "Hotline Deutschland")
    ]
    assert takedown.status == "forwarded" and takedown.notices.get().kind == "forward_partner"

    entries["partner"].active = False
    entries["partner"].save()
    takedown = _routed(assessed_case, world, clock, "https://shop.example.de/2")
    [action] = takedown.actions
    assert action["to"]["name"] == "International network" and "no partner hotline for DE" in action["note"]


def test_behind_a_cdn_the_cdn_is_noticed_and_an_analyst_routes_the_origin(
    directory, world, assessed_case, clock, staff_client, mailoutbox
):
    directory()
    takedown = _routed(assessed_case, world, clock, "https://shop.example.org/item")
    assert takedown.traces.get().data["cdn"] == "Cloudflare"
    assert takedown.hosting_country == ""  # the CDN's country says nothing about the origin
    assert [a["kind"] for a in takedown.actions] == ["notice_cdn", "analyst_decides"]
    assert mailoutbox[0].subject.startswith("Notice:") and "abuse@cloudflare.test" in mailoutbox[0].to

    client, analyst = staff_client("analyst")
    listing = client.get("/staff/takedown/?show=analyst").content.decode()
    assert f"/staff/takedown/cases/{takedown.pk}/" in listing
    response = client.post(
        f"/staff/takedown/cases/{takedown.pk}/decide/",
        {"emails": "abuse@origin-host.test", "note": "Origin Host"},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="takedown.case.decide").actor == analyst.username

    services.tick(clock.advance(minutes=1), tools=world)
    assert mailoutbox[-1].to == ["abuse@origin-host.test"]
    takedown.refresh_from_db()
    assert takedown.analyst_note == "" and takedown.status == "notices"


def test_a_name_that_does_not_resolve_goes_to_an_analyst(directory, world, assessed_case, clock, mailoutbox):
    directory()
    takedown = _routed(assessed_case, world, clock, "https://nowhere.example.pt/x")
    assert "does not exist" in takedown.traces.get().data["problems"][0]
    assert takedown.status == "analyst" and [a["kind"] for a in takedown.actions] == ["analyst_decides"]
    assert mailoutbox == []


def test_a_provider_entry_replaces_the_rdap_contact(directory, world, assessed_case, clock, mailoutbox):
    directory()
    DirectoryEntry.objects.create(
        kind="provider", name="Example Hosting abuse desk", asn=64500, emails="desk@hosting.test"
    )
    takedown = _routed(assessed_case, world, clock, "https://example.pt/b")
    assert takedown.actions[0]["to"]["name"] == "Example Hosting abuse desk"
    assert mailoutbox[0].to == ["desk@hosting.test"]
    assert [a["kind"] for a in takedown.actions] == ["notice_host", "refer_law_enforcement"]


def test_the_case_page_names_the_actions_and_offers_routing_only_until_removal(
    directory, world, assessed_case, clock, staff_client, mailoutbox
):
    directory()
    takedown = _routed(assessed_case, world, clock, "https://shop.example.org/item")
    client, _ = staff_client("analyst")
    decide = f"/staff/takedown/cases/{takedown.pk}/decide/"
    page = client.get(f"/staff/takedown/cases/{takedown.pk}/").content.decode()
    assert "Notice to the CDN" in page and "An analyst decides" in page
    assert f'action="{decide}"' in page

    TakedownCase.objects.filter(pk=takedown.pk).update(status="removed")
    page = client.get(f"/staff/takedown/cases/{takedown.pk}/").content.decode()
    assert decide not in page
    refused = client.post(decide, {"emails": "abuse@origin-host.test"}, follow=True).content.decode()
    assert "already removed" in refused
    assert not AuditEvent.objects.filter(action="takedown.case.decide").exists()
