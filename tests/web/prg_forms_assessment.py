"""The assessment forms of tests/web/test_post_redirect_get.py: a cycle opened through the
assessment services, then each form's valid submission."""

from datetime import date

from web.prg_forms import Post, form

# --- assessment --------------------------------------------------------------------------------


def _cycle(w, coordinator=None):
    from openmnr.assessment import services

    coordinator = coordinator or w.make_user("national_coordinator")
    cycle = services.open_cycle(
        coordinator,
        country="Examplestan",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        framework_version="mnr-2016",
    )
    return cycle, coordinator


@form("assessment:open")
def _open_cycle(w):
    from openmnr.assessment.models import Cycle

    data = {
        "country": "Examplestan",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
        "framework_version": "mnr-2016",
    }
    return Post(w.make_user("national_coordinator"), "/staff/assessment/open/", data, Cycle.objects.count)


@form("assessment:domains")
def _domains(w):
    cycle, coordinator = _cycle(w)
    domain = cycle.domains.order_by("pk").first()
    contributor = w.make_user("analyst")
    data = {
        "domain": domain.domain,
        f"{domain.domain}-contributors": [contributor.pk],
        f"{domain.domain}-weight": "2",
    }
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/domains/",
        data,
        lambda: type(domain).objects.filter(pk=domain.pk, weight=2, contributors=contributor).count(),
    )


@form("assessment:capability")
def _capability(w):
    cycle, coordinator = _cycle(w)
    record = cycle.capabilities.order_by("capability").first()
    data = {"current_level": 1, "target_level": 2, "confidence": "medium", "stakeholder": ""}
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/capabilities/{record.capability}/",
        data,
        lambda: type(record).objects.filter(pk=record.pk, current_level=1, target_level=2).count(),
    )


@form("assessment:add-evidence")
def _add_evidence(w):
    cycle, coordinator = _cycle(w)
    record = cycle.capabilities.order_by("capability").first()
    data = {"kind": "note", "title": "Hotline annual report", "note": "Published in March."}
    from openmnr.assessment.models import Evidence

    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/capabilities/{record.capability}/evidence/",
        data,
        Evidence.objects.filter(title="Hotline annual report").count,
    )


@form("assessment:remove-evidence")
def _remove_evidence(w):
    from openmnr.assessment import services

    cycle, coordinator = _cycle(w)
    record = cycle.capabilities.order_by("capability").first()
    evidence = services.add_evidence(
        coordinator, cycle, record.capability, kind="note", title="Old", note="x"
    )
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/evidence/{evidence.pk}/remove/",
        once=lambda: 0 if type(evidence).objects.filter(pk=evidence.pk).exists() else 1,  # gone, once
    )


@form("assessment:comment")
def _comment(w):
    from openmnr.assessment.models import Comment

    cycle, coordinator = _cycle(w)
    data = {"text": "Please add the 2025 figures."}
    return Post(coordinator, f"/staff/assessment/{cycle.pk}/comments/", data, Comment.objects.count)


@form("assessment:transition")
def _transition(w):
    cycle, coordinator = _cycle(w)
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/state/",
        {"to": "in_review"},
        lambda: type(cycle).objects.filter(pk=cycle.pk, state="in_review").count(),
    )


@form("assessment:sign")
def _sign(w):
    from openmnr.assessment import services, signoff
    from openmnr.assessment.states import State

    cycle, coordinator = _cycle(w)
    cycle = services.transition(coordinator, cycle, State.IN_REVIEW)
    return Post(
        coordinator,
        f"/staff/assessment/{cycle.pk}/sign/",
        {"digest": signoff.records_digest(cycle)},
        lambda: type(cycle).objects.filter(pk=cycle.pk, state=State.AWAITING_COUNTERSIGNATURE).count(),
    )


def _peer_pem():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@form("assessment:peers")
def _peers(w):
    from openmnr.assessment.models import PeerCountry

    data = {"country": "Otherland", "public_key": _peer_pem()}
    return Post(w.make_user("administrator"), "/staff/assessment/peers/", data, PeerCountry.objects.count)


@form("assessment:remove-peer")
def _remove_peer(w):
    from openmnr.assessment import results

    administrator = w.make_user("administrator")
    peer = results.set_peer_key(administrator, "Otherland", _peer_pem())
    return Post(
        administrator,
        f"/staff/assessment/peers/{peer.pk}/remove/",
        once=lambda: 0 if type(peer).objects.filter(pk=peer.pk).exists() else 1,
    )
