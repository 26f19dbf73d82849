"""Staff pages (the list's dashboard, the keyword list) and the public deterrence page. Thin:
permission, input, one service call; the work is in services/."""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from . import services
from .errors import BlockingError
from .models import Keyword, ListVersion


class KeywordForm(forms.Form):
    term = forms.CharField(max_length=200)
    language = forms.CharField(max_length=16, initial="en", help_text="BCP 47: en, pt-BR, ...")
    category = forms.ChoiceField(choices=Keyword.Category.choices)


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=500)


@permission_required("blocking.view_blocking", raise_exception=True)
@never_cache
def dashboard_view(request):
    can_see_counts = request.user.has_perm("blocking.view_deterrence_counts")
    return render(
        request,
        "blocking/dashboard.html",
        {
            "latest": services.latest(),
            "versions": ListVersion.objects.order_by("-version")[:20],
            "licensees": get_user_model()
            .objects.filter(is_active=True, groups__name="blocking_licensee")
            .distinct()
            .count(),
            "counts": services.deterrence.daily() if can_see_counts else None,
        },
    )


@permission_required("blocking.publish_list", raise_exception=True)
@require_POST
def publish_view(request):
    try:
        version = services.publish(by=request.user, request=request)
    except BlockingError as error:
        messages.error(request, str(error))
    else:
        if version is None:
            messages.info(request, "Nothing changed since the last version: no new version published.")
        else:
            messages.success(request, f"Version {version.version} published: {version.count} entries.")
    return redirect("blocking:dashboard")


@permission_required("blocking.view_keywords", raise_exception=True)
@never_cache
def keywords_view(request):
    form = KeywordForm()
    if request.method == "POST":
        form = KeywordForm(request.POST)
        if form.is_valid():
            try:
                services.keywords.propose(by=request.user, request=request, **form.cleaned_data)
            except BlockingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, "Proposed: another senior analyst confirms it before it is exported."
                )
                return redirect("blocking:keywords")
    return render(
        request,
        "blocking/keywords.html",
        {"form": form, "keywords": services.keywords.listed(request.user), "disable_form": DisableForm()},
        status=400 if form.errors else 200,
    )


@permission_required("blocking.curate_keywords", raise_exception=True)
@require_POST
def confirm_keyword_view(request, keyword_id: int):
    try:
        services.keywords.confirm(keyword_id, by=request.user, request=request)
        messages.success(request, "Confirmed.")
    except BlockingError as error:
        messages.error(request, str(error))
    return redirect("blocking:keywords")


@permission_required("blocking.curate_keywords", raise_exception=True)
@require_POST
def disable_keyword_view(request, keyword_id: int):
    form = DisableForm(request.POST)
    try:
        if not form.is_valid():
            raise services.keywords.InvalidInput("give a reason for disabling the keyword")
        services.keywords.disable(
            keyword_id, by=request.user, reason=form.cleaned_data["reason"], request=request
        )
        messages.success(request, "Disabled.")
    except BlockingError as error:
        messages.error(request, str(error))
    return redirect("blocking:keywords")


@login_not_required
@require_GET
@never_cache
def deterrence_view(request):
    """The page a blocked request lands on. Counted, and nothing about the visitor kept."""
    version = services.deterrence.count("view", request.GET.get("v"))
    response = render(
        request,
        "blocking/deterrence.html",
        {"help_services": list(enumerate(services.deterrence.help_services())), "version": version},
        status=451,
    )
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@require_GET
@never_cache
def help_view(request, index: int):
    """Count a click on a help service, then go there (only to a configured service: no open redirect)."""
    helpers = services.deterrence.help_services()
    if not 0 <= index < len(helpers) or not helpers[index].get("url"):
        raise Http404("no such help service")
    services.deterrence.count("help", request.GET.get("v"))
    response = HttpResponseRedirect(helpers[index]["url"])
    response["Referrer-Policy"] = "no-referrer"
    return response
