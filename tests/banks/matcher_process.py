"""A second process for test_propagation.py: another matcher on the same database.

Usage: python matcher_process.py DATABASE_NAME INDEX_DIR USERNAME. Reads one JSON item per line
({"pdq": "..."}) and answers one JSON line: the entry ids the match service reports for it, the
entry ids its own in-memory index holds for it, and the change-log seq it has applied. It checks
the change log as a web process does (at most every BANKS_POLL_SECONDS, default 1 s).
"""

import json
import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "openmnr.web.settings")
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = sys.argv[1]
    settings.BANKS_INDEX_DIR = Path(sys.argv[2])
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from openmnr.banks import services
    from openmnr.banks.matcher import get_matcher

    user = get_user_model().objects.get(username=sys.argv[3])
    print(json.dumps({"ready": os.getpid()}), flush=True)
    for line in sys.stdin:
        item = json.loads(line)
        (result,) = services.match([item], user=user)
        matcher = get_matcher()
        (hits,) = matcher.lookup([item], services.thresholds())
        answer = {
            "service": [m.entry_id for m in result.matches],
            "index": [hit.entry_id for hit in hits],
            "seq": matcher.seq,
        }
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
