"""Demo content for `make run`: the URL list published from the demo hotline cases (their URLs are
on example domains, the material is benign), and one keyword awaiting its second senior analyst.
The demo blocking licensee's API key (printed with the demo logins) downloads the list."""

from django.contrib.auth import get_user_model

from .models import Keyword
from .services import keywords, latest, publish

DEMO_TERM = "example code word (demo)"


def load(out) -> None:
    version = publish() or latest()
    if version is not None:
        out.write(
            f"Blocking list: version {version.version}, {version.count} URLs; the deterrence page is "
            f"/blocked/?v={version.version}\n"
        )
    proposer = get_user_model().objects.filter(username="senior-analyst").first()
    if proposer is not None and not Keyword.objects.filter(term=DEMO_TERM).exists():
        keywords.propose(term=DEMO_TERM, language="en", category="codeword", by=proposer)
