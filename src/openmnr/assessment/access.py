"""Who may see and change what, per cycle, on top of the role permissions the views check.

* A national coordinator (``manage_cycles``) edits every domain of every cycle; a contributor
  (``contribute``) edits only the domains assigned to them in that cycle, and sees only the cycles they
  take part in, unless their role reads every cycle (``view_all_cycles``).
* Whether the cycle's *state* allows a change is the state machine's business (``states.py``); these
  functions answer for the person only, so a page can say "not yours" and "not now" apart.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from .frameworks import framework_of
from .models import Cycle

MANAGE = "assessment.manage_cycles"
CONTRIBUTE = "assessment.contribute"
VIEW_ALL = "assessment.view_all_cycles"
EXPORT = "assessment.export_cycle"
COMPARE = "assessment.compare_countries"
PEER_KEYS = "assessment.manage_peer_keys"


def visible_cycles(user):
    if user.has_perm(VIEW_ALL):
        return Cycle.objects.all()
    return Cycle.objects.filter(Q(domains__contributors=user) | Q(coordinator=user)).distinct()


def can_view(user, cycle: Cycle) -> bool:
    return visible_cycles(user).filter(pk=cycle.pk).exists()


def assigned_domains(user, cycle: Cycle) -> set[str]:
    """The domain ids this user may edit in this cycle (all of them for a coordinator)."""
    if user.has_perm(MANAGE):
        return {d.id for d in framework_of(cycle).domains}
    if not user.has_perm(CONTRIBUTE):
        return set()
    return set(cycle.domains.filter(contributors=user).values_list("domain", flat=True))


def can_edit_capability(user, cycle: Cycle, number: int) -> bool:
    """Whether the user's assignment lets them edit this capability (the cycle's state aside)."""
    return framework_of(cycle).capability(number).domain in assigned_domains(user, cycle)


def may_edit_capability(user, cycle: Cycle, number: int) -> bool:
    """Whether the user may edit this capability now: theirs, and the cycle a draft."""
    return cycle.editable and can_edit_capability(user, cycle, number)


def can_comment(user, cycle: Cycle) -> bool:
    return bool(assigned_domains(user, cycle)) and cycle.takes_comments


def contributor_choices():
    """The staff users a coordinator may assign: those whose role lets them contribute."""
    users = get_user_model().objects.filter(is_active=True).order_by("username")
    return [u for u in users if u.has_perm(CONTRIBUTE)]


def display_name(user) -> str:
    """How a signature names a person: their full name when the account has one, else the username."""
    if user is None:
        return ""
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return f"{full} ({user.get_username()})" if full else user.get_username()
