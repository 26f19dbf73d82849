"""`openmnr iccam check`: log in, read the lookup lists, and compare them with the vocabulary file.

ICCAM's lookup lists hold the ids the vocabulary maps to. A difference is not fatal (ICCAM may list
terms we do not use), but an id of ours that ICCAM lists under another name, or does not list at
all, means the vocabulary file needs a new version before items carrying it can be exchanged.
"""

from openmnr.core.exchange import ExchangeError
from openmnr.core.vocabulary import vocabulary

from . import config


def run(client=None) -> tuple[list[str], bool]:
    """(lines to print, everything fine?)."""
    lines = []
    try:
        client = client or config.iccam_client()
        with client:
            client.login()
            lines.append(f"logged in to {config.iccam_config().base_url} as {config.iccam_config().username}")
            ok = True
            for term_list in vocabulary().lists.values():
                if not term_list.iccam_v3_lookup:
                    continue
                listed = {}
                for entry in client.lookup(term_list.iccam_v3_lookup):
                    key = entry.get("id", entry.get("type"))
                    if isinstance(key, int) and not isinstance(key, bool):
                        listed[key] = str(entry.get("name", ""))
                ours = {t.iccam_v3: t for t in term_list.terms if t.iccam_v3 is not None}
                missing = sorted(set(ours) - set(listed))
                renamed = sorted(
                    i for i in set(ours) & set(listed) if _norm(listed[i]) != _norm(ours[i].iccam_v3_name)
                )
                extra = sorted(set(listed) - set(ours))
                state = "matches" if not missing and not renamed else "DIFFERS"
                lines.append(f"{term_list.iccam_v3_lookup}: {len(listed)} ids, {state} the vocabulary")
                for i in missing:
                    lines.append(f"  id {i} ({ours[i].code}) is not in ICCAM's list")
                for i in renamed:
                    lines.append(
                        f"  id {i}: ICCAM says {listed[i]!r}, the vocabulary {ours[i].iccam_v3_name!r}"
                    )
                for i in extra:
                    lines.append(
                        f"  id {i} ({listed[i]}) is not in the vocabulary: items carrying it are refused"
                    )
                ok = ok and not missing and not renamed
    except ExchangeError as exc:
        lines.append(f"check failed: {exc}")
        return lines, False
    return lines, ok


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())
