"""Demo hotline cases for `make run`: one public report resolved automatically as known material,
and one waiting in the analyst queue.

Nothing is fetched: the reported addresses are under demo.openmnr.invalid (a name that can never
resolve), and the media "found" there are benign photographs of the test corpus, read from disk and
triaged exactly as fetched media would be (hashed, matched against the banks, assessed). Two of them
are the stand-ins the banks demo holds as "confirmed CSAM"; they are NOT abuse material. Every row
is marked `is_demo`. Needs the banks demo (loaded before this one). Run again, nothing is created
twice.
"""

from pathlib import Path

from django.conf import settings

from openmnr.common.demo import base_url

from . import codes, triage
from .intake import ReportInput, receive_public
from .models import Case, ContentKind, FoundWhere

CORPUS = Path(settings.SRC_DIR).parents[1].parent / "shared" / "corpus" / "natural"
SITE = "https://demo.openmnr.invalid"
# Page -> the photographs shown on it. The banks demo confirmed astronaut-01, coffee-02 and rocket-03.
PAGES = {
    f"{SITE}/gallery/known.html": ["astronaut-01.jpg", "coffee-02.jpg"],
    f"{SITE}/gallery/mixed.html": ["rocket-03.jpg", "camera-00.jpg", "chelsea-01.jpg"],
}


def load(out) -> None:
    if not CORPUS.is_dir():
        out.write(f"\nDemo hotline cases skipped: the benign corpus {CORPUS} is missing.\n")
        return
    out.write("\nDemo hotline reports (benign stand-ins, not abuse material):\n")
    for page, photos in PAGES.items():
        case = Case.objects.filter(url=page, is_demo=True).first()
        if case is None:
            case = _report(page, photos)
        code = case.reports.order_by("pk").first().submission.tracking_code
        out.write(
            f"  {page}: case {case.pk}, {case.get_state_display()}; tracking code {codes.display(code)}\n"
        )
    out.write(f"  The analyst's queue: {base_url()}/staff/hotline/\n")


def _report(page: str, photos: list[str]) -> Case:
    report = ReportInput(
        urls=[page],
        found_where=FoundWhere.WEB_PAGE,
        content_kind=ContentKind.CSAM,
        description="Demo report: the page shows benign sample photographs.",
    )
    case = receive_public(report, is_demo=True).urls.get().case
    for position, name in enumerate(photos):
        data = (CORPUS / name).read_bytes()
        triage.add_media(case.pk, position, f"{SITE}/img/{name}", data, "image/jpeg")
    triage.finish(case.pk)
    case.refresh_from_db()
    return case
