"""What a validated CyberTipline document says, as plain frozen data.

``report_facts`` and ``file_facts`` read an element that ``documents.parse`` has already checked
against the schema, so every element they look for is where the schema puts it; they pick out what
triage, jurisdiction and linking need and leave the rest in the stored XML. Nothing here decides
anything: ``risk`` orders, the industry app maps vocabulary and looks addresses up.
"""

from dataclasses import dataclass, field

from lxml import etree

# The people a report can name, by the element that holds them and the role we give them.
PERSON_ELEMENTS = {
    "personOrUserReported": ("reported", "personOrUserReportedPerson"),
    "victim": ("victim", "victimPerson"),
    "intendedRecipient": ("recipient", "intendedRecipientPerson"),
}
REPORT_ANNOTATIONS = (
    "sextortion",
    "csamSolicitation",
    "minorToMinorInteraction",
    "spam",
    "sadisticOnlineExploitation",
)
FILE_ANNOTATIONS = (
    "animeDrawingVirtualHentai",
    "potentialMeme",
    "viral",
    "possibleSelfProduction",
    "physicalHarm",
    "violenceGore",
    "bestiality",
    "liveStreaming",
    "infant",
    "generativeAi",
)


@dataclass(frozen=True)
class Place:
    """A country the report ties to a person, and where it says so (for the reasons shown)."""

    country: str  # ISO 3166-1 alpha-2 as written (the schema's list also has A1, A2 and US states)
    source: str  # "estimated location", "address", "phone", "IP address"


@dataclass(frozen=True)
class Person:
    role: str  # reported, victim, recipient
    esp_service: str = ""
    esp_identifier: str = ""
    screen_name: str = ""
    places: tuple[Place, ...] = ()
    phones: tuple[tuple[str, str], ...] = ()  # (countryCallingCode or "", number as written)
    ips: tuple[str, ...] = ()
    prior_reports: tuple[int, ...] = ()

    @property
    def account(self) -> tuple[str, str] | None:
        """(service, identifier) naming the account on the platform, or None when the report gives
        neither an ESP identifier nor a screen name."""
        ident = self.esp_identifier or self.screen_name
        return (self.esp_service.strip().lower(), ident.strip().lower()) if ident.strip() else None


@dataclass(frozen=True)
class ReportFacts:
    incident_type: str
    incident_at: str
    platform: str = ""
    escalate: str = ""  # the provider's reason for escalating, "" when not escalated
    annotations: tuple[str, ...] = ()
    people: tuple[Person, ...] = ()
    urls: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()  # IP capture events of the incident itself (peer-to-peer)
    reporter: str = ""


@dataclass(frozen=True)
class FileFacts:
    report_id: int
    file_id: str
    file_name: str = ""
    original_file_name: str = ""
    location: str = ""
    publicly_available: bool | None = None
    viewed_by_esp: bool | None = None
    relevance: str = "Reported"
    annotations: tuple[str, ...] = ()
    classification: str = ""  # A1, A2, B1, B2 (industry classification) or ""
    ip: str = ""
    original_hashes: tuple[tuple[str, str], ...] = field(default=(), repr=False)


def _text(element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _texts(element, path: str) -> tuple[str, ...]:
    return tuple(t for t in ((e.text or "").strip() for e in element.findall(path)) if t)


def _bool(element, path: str) -> bool | None:
    value = _text(element, path)
    return None if not value else value in ("true", "1")


def _person(element, role: str, person_tag: str) -> Person:
    places, phones = [], []
    person = element.find(person_tag)
    holders = [e for e in (person,) if e is not None] + element.findall("associatedAccount")
    for holder in holders:
        for address in holder.findall("address"):
            if country := _text(address, "country"):
                places.append(Place(country.upper(), "address"))
        for phone in holder.findall("phone"):
            phones.append((phone.get("countryCallingCode", ""), (phone.text or "").strip()))
    if country := _text(element, "estimatedLocation/countryCode"):
        places.append(Place(country.upper(), "estimated location"))
    ips = [_text(event, "ipAddress") for event in element.findall("ipCaptureEvent")]
    for account in element.findall("associatedAccount"):
        ips += [_text(event, "ipAddress") for event in account.findall("ipCaptureEvent")]
    priors = [int(v) for v in _texts(element, "priorCTReports")]
    return Person(
        role=role,
        esp_service=_text(element, "espService"),
        esp_identifier=_text(element, "espIdentifier"),
        screen_name=_text(element, "screenName"),
        places=tuple(places),
        phones=tuple(p for p in phones if p[0] or p[1]),
        ips=tuple(ip for ip in ips if ip),
        prior_reports=tuple(priors),
    )


def report_facts(report: etree._Element) -> ReportFacts:
    """The facts of a validated ``<report>``."""
    summary = report.find("incidentSummary")
    annotations = summary.find("reportAnnotations")
    people = []
    for tag, (role, person_tag) in PERSON_ELEMENTS.items():
        people += [_person(element, role, person_tag) for element in report.findall(tag)]
    urls = list(_texts(report, "internetDetails/webPageIncident/url"))
    for person in report.findall("personOrUserReported"):
        urls += _texts(person, "profileUrl")
    ips = [
        _text(event, "ipAddress")
        for event in report.findall("internetDetails/peer2peerIncident/ipCaptureEvent")
    ]
    reporter = report.find("reporter/reportingPerson")
    name = " ".join(t for t in (_text(reporter, "firstName"), _text(reporter, "lastName")) if t)
    return ReportFacts(
        incident_type=_text(summary, "incidentType"),
        incident_at=_text(summary, "incidentDateTime"),
        platform=_text(summary, "platform"),
        escalate=_text(summary, "escalateToHighPriority"),
        annotations=tuple(a for a in REPORT_ANNOTATIONS if annotations is not None and _bool(annotations, a)),
        people=tuple(people),
        urls=tuple(dict.fromkeys(urls)),
        ips=tuple(ip for ip in ips if ip),
        reporter=name or _text(reporter, "email"),
    )


def file_facts(details: etree._Element) -> FileFacts:
    """The facts of a validated ``<fileDetails>``."""
    annotations = details.find("fileAnnotations")
    flags = [a for a in FILE_ANNOTATIONS if annotations is not None and _bool(annotations, a)]
    if _bool(details, "potentialMeme") and "potentialMeme" not in flags:
        flags.append("potentialMeme")  # the older form, a sibling of fileAnnotations
    return FileFacts(
        report_id=int(_text(details, "reportId")),
        file_id=_text(details, "fileId"),
        file_name=_text(details, "fileName"),
        original_file_name=_text(details, "originalFileName"),
        location=_text(details, "locationOfFile"),
        publicly_available=_bool(details, "publiclyAvailable"),
        viewed_by_esp=_bool(details, "fileViewedByEsp"),
        relevance=_text(details, "fileRelevance") or "Reported",
        annotations=tuple(flags),
        classification=_text(details, "industryClassification"),
        ip=_text(details, "ipCaptureEvent/ipAddress"),
        original_hashes=tuple(
            (e.get("hashType", ""), (e.text or "").strip()) for e in details.findall("originalFileHash")
        ),
    )
