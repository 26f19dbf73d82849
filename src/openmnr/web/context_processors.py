"""What every page's template may use: the staff navigation bar.

The bar lists the same pages as the staff home (``home.links_for``), so a role sees exactly the
pages it may open, on every staff page. It is computed only when a template reads it (public pages
never do) and only for a signed-in user who may use the staff pages.
"""

from django.utils.functional import SimpleLazyObject

from .home import links_for


def _navigation(request) -> list[dict]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm("accounts.access_staff_home"):
        return []
    links = links_for(user)
    # The longest link the current address starts with is the current page's section.
    current = max(
        (link["url"] for link in links if request.path.startswith(link["url"])), key=len, default=""
    )
    return [{**link, "current": link["url"] == current} for link in links]


def staff_navigation(request) -> dict:
    return {"staff_nav": SimpleLazyObject(lambda: _navigation(request))}
