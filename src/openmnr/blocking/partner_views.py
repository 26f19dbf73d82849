"""Staff pages for partners' URL lists: the list of lists (senior analysts and administrators), and an
administrator's add, edit (source, key, key variable, minimum wait, licence) and remove; "fetch now"
for both (queued for the worker, never run in the request). Thin: permission, the object, one service call, then redirect (POST-redirect-GET).

Who may do what follows the roles (roles.py): ``fetch_partner_lists`` opens the page and fetches,
an operational act that can only bring in what the partner signed; ``manage_partner_lists``
(administrators) changes what we trust — the address, the key, the licence that decides whether
the entries reach licensees — and each such change also needs a fresh second factor. A removed list
is gone from these pages (its row stays for the list's history): every view looks the object up
among the active lists, after the permission check, so a role without it never learns what exists.
"""

import os

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import has_recent_second_factor, step_up_redirect, step_up_required

from .errors import BlockingError
from .models import PartnerList
from .services import partner_schedule, partner_upload, partners


class PartnerSourceForm(forms.Form):
    source_url = forms.CharField(
        label=gettext_lazy("Address of the partner's signed export"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("For a partner OpenMNR: https://hotline.example/api/v1/urllist/export"),
    )
    public_key_pem = forms.CharField(
        label=gettext_lazy("The partner's Ed25519 public key (PEM)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 64}),
    )
    api_key_variable = forms.CharField(
        label=gettext_lazy("Environment variable holding our API key at the partner"),
        max_length=100,
        required=False,
        help_text=gettext_lazy(
            "Its name only, starting with OPENMNR_PARTNER_KEY_; the key itself is never stored."
        ),
    )
    min_wait_seconds = forms.IntegerField(
        label=gettext_lazy("The partner's minimum wait between fetches (seconds)"),
        min_value=0,
        max_value=partners.MAX_WAIT_SECONDS,
        initial=0,
    )
    redistribute = forms.BooleanField(
        label=gettext_lazy("The licence lets us publish its entries to our licensees"),
        required=False,
    )


class NewPartnerForm(PartnerSourceForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=PartnerList.Kind.choices)

    field_order = ["name", "kind"]


def _active(partner_id: int) -> PartnerList:
    return get_object_or_404(PartnerList, pk=partner_id, active=True)


def _rows():
    lists = PartnerList.objects.filter(active=True).annotate(entry_count=Count("entries")).order_by("name")
    return [
        (partner, bool(partner.api_key_variable and os.environ.get(partner.api_key_variable)))
        for partner in lists
    ]


@permission_required("blocking.fetch_partner_lists", raise_exception=True)
@never_cache
def partners_view(request):
    """The partners' lists; an administrator's POST registers a new one."""
    form = NewPartnerForm()
    if request.method == "POST":
        if not request.user.has_perm("blocking.manage_partner_lists"):
            raise PermissionDenied
        if not has_recent_second_factor(request):
            return step_up_redirect(request)
        form = NewPartnerForm(request.POST)
        if form.is_valid():
            try:
                partner = partners.register(by=request.user, request=request, **form.cleaned_data)
            except BlockingError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Partner list %(name)s registered.") % {"name": partner.name})
                return redirect("blocking:partners")
    return render(
        request,
        "blocking/partners.html",
        {
            "rows": _rows(),
            "removed": PartnerList.objects.filter(active=False).order_by("-removed_at")[:20],
            "form": form,
            "can_manage": request.user.has_perm("blocking.manage_partner_lists"),
            "interval": partner_schedule.interval(),
        },
        status=400 if form.errors else 200,
    )


@permission_required("blocking.manage_partner_lists", raise_exception=True)
@never_cache
def partner_view(request, partner_id: int):
    """An administrator edits a partner list's source, key, key variable, minimum wait and licence."""
    partner = _active(partner_id)
    form = PartnerSourceForm(initial={name: getattr(partner, name) for name in partners.EDITABLE})
    if request.method == "POST":
        if not has_recent_second_factor(request):
            return step_up_redirect(request)
        form = PartnerSourceForm(request.POST)
        if form.is_valid():
            try:
                changed = partners.update(partner, by=request.user, request=request, **form.cleaned_data)
            except BlockingError as error:
                form.add_error(None, str(error))
            else:
                if changed:
                    messages.success(request, _("Partner list %(name)s saved.") % {"name": partner.name})
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect("blocking:partners")
    return render(
        request,
        "blocking/partner.html",
        {"partner": partner, "form": form},
        status=400 if form.errors else 200,
    )


@permission_required("blocking.fetch_partner_lists", raise_exception=True)
@require_POST
def partner_fetch_view(request, partner_id: int):
    """Queue a fetch for the worker and answer at once (the fetch may wait 30 s on the partner)."""
    partner = _active(partner_id)
    try:
        queued = partner_schedule.queue_fetch(partner, by=request.user, request=request)
    except BlockingError as error:
        messages.error(request, str(error))
    else:
        if queued:
            messages.success(
                request,
                _("Fetch of %(name)s queued: the worker runs it shortly; its outcome shows in the table.")
                % {"name": partner.name},
            )
        else:
            messages.info(request, _("A fetch of %(name)s is already queued.") % {"name": partner.name})
    return redirect("blocking:partners")


class PartnerUploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("The partner's list file"))


@permission_required("blocking.manage_partner_lists", raise_exception=True)
@require_POST
@step_up_required
def partner_upload_view(request, partner_id: int):
    """An administrator uploads the list of a partner without an endpoint (partner_upload.py)."""
    partner = _active(partner_id)
    form = PartnerUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose the partner's list file to upload."))
        return redirect("blocking:partners")
    try:
        counts = partner_upload.import_upload(
            partner, form.cleaned_data["file"], by=request.user, request=request
        )
    except BlockingError as error:
        messages.error(
            request, _("%(name)s: the file is refused: %(why)s.") % {"name": partner.name, "why": error}
        )
        # The refusal names the first three; the rest of those shown, one message each.
        for number, why in getattr(error, "lines", ())[3:]:
            messages.error(request, _("Line %(number)s: %(why)s") % {"number": number, "why": why})
    else:
        messages.success(
            request,
            _("%(name)s imported: %(count)s entries, %(added)s added, %(removed)s removed.")
            % {"name": partner.name, **counts},
        )
    return redirect("blocking:partners")


@permission_required("blocking.manage_partner_lists", raise_exception=True)
@require_POST
@step_up_required
def partner_remove_view(request, partner_id: int):
    partner = _active(partner_id)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm the removal."))
        return redirect("blocking:partners")
    try:
        gone = partners.remove(partner, by=request.user, request=request)
    except BlockingError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("%(name)s removed: %(count)s entries leave the list at the next publication.")
            % {"name": partner.name, "count": gone},
        )
    return redirect("blocking:partners")
