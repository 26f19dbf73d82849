"""CyberTipline vocabulary in the platform's assessment vocabulary.

Files: the industry classification (A1, A2, B1, B2) and the ``fileAnnotations`` are read through
the platform's versioned vocabulary (``openmnr.core.vocabulary``, the same file the hotline and the
ICCAM exchange use): annotations become content flags (generativeAi -> AI-generated, and so
virtual; possibleSelfProduction -> self-generated; liveStreaming -> live-streamed; ...), ``infant``
and the class letter become an apparent age group, the class digit a national category where the
scheme can tell. The assessment follows from the age group: inside the baseline (infant,
prepubescent) it is *baseline*, otherwise *nationally illegal*.

A provider's classification is what the provider says, not our assessment: it is shown as such and
never auto-assesses a file (only a match with confirmed material does).

Report-level annotations and NCMEC's incident types are not part of the assessment vocabulary (they
describe the incident, not an item); they are mapped here, NCMEC's legal strings shown in the
Luxembourg Guidelines' terms.
"""

from openmnr.core.vocabulary import VocabularyError, vocabulary


def file_vocabulary(classification: str, annotations: list[str]) -> dict:
    """The provider's view of a file in our terms: assessment, age group, category, flags (codes)."""
    v = vocabulary()
    try:
        reading = v.from_cybertipline(annotations, classification or None)
    except VocabularyError:
        return {"assessment": "", "age_group": "", "category": "", "flags": []}
    age_group = reading.age_group or ""
    assessment = ""
    if classification:
        assessment = "baseline" if age_group in v.baseline_age_groups() else "nationally_illegal"
    return {
        "assessment": assessment,
        "age_group": age_group,
        "category": reading.category or "",
        "flags": sorted(reading.flags),
    }


def flag_label(code: str) -> str:
    try:
        return vocabulary().flag(code).label
    except VocabularyError:
        return code


# reportAnnotations element -> label
REPORT_FLAGS = {
    "sextortion": "Sexual extortion",
    "csamSolicitation": "Solicitation of CSAM",
    "minorToMinorInteraction": "Between minors",
    "spam": "Spam",
    "sadisticOnlineExploitation": "Sadistic online exploitation",
}

# NCMEC incident type (legal string, only at the boundary) -> (our code, label)
INCIDENT_TYPES = {
    "Child Pornography (possession, manufacture, and distribution)": (
        "csam",
        "Child sexual abuse material (possession, production, distribution)",
    ),
    "Child Sex Trafficking": ("trafficking", "Trafficking of children for sexual purposes"),
    "Child Sex Tourism": ("travel", "Sexual exploitation of children in travel and tourism"),
    "Child Sexual Molestation": ("contact_abuse", "Contact sexual abuse of a child"),
    "Misleading Domain Name": ("misleading_domain", "Misleading domain name"),
    "Misleading Words or Digital Images on the Internet": (
        "misleading_content",
        "Misleading words or images",
    ),
    "Online Enticement of Children for Sexual Acts": ("enticement", "Online grooming (enticement)"),
    "Unsolicited Obscene Material Sent to a Child": ("sent_to_child", "Sexual material sent to a child"),
}


def incident_label(incident_type: str) -> str:
    return INCIDENT_TYPES.get(incident_type, ("", incident_type))[1]


def incident_code(incident_type: str) -> str:
    return INCIDENT_TYPES.get(incident_type, ("other", ""))[0]
