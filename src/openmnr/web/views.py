from django.contrib.auth.decorators import login_not_required, permission_required
from django.shortcuts import render

from openmnr.accounts.roles import ROLE_BY_NAME, roles_of

from .home import links_for


@login_not_required
def landing(request):
    return render(request, "web/landing.html")


@permission_required("accounts.access_staff_home", raise_exception=True)
def staff_home(request):
    roles = [ROLE_BY_NAME[name] for name in roles_of(request.user)]
    return render(request, "web/staff_home.html", {"roles": roles, "links": links_for(request.user)})
