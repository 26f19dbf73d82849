"""Curation pages: banks, their entries (masked), proposals, the confirmation queue, import,
export, the match page and the index status. Thin: the work and the per-object checks are in the
services package."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import step_up_required
from openmnr.core import media

from . import services
from .forms import (
    BankForm,
    DisableForm,
    ExportForm,
    ImportForm,
    MatchForm,
    PictureProposeForm,
    ProposeForm,
    VideoProposeForm,
)
from .models import Bank, BankEntry, ImportBatch
from .uploads import InMemoryUploads

ENTRIES_PER_PAGE = 50


def _visible_bank(request, pk: int) -> Bank:
    """A bank the user may see; others are answered as if they did not exist."""
    bank = services.visible_banks(request.user).filter(pk=pk).first()
    if bank is None:
        raise Http404("No such bank.")
    return bank


@permission_required("banks.view_banks", raise_exception=True)
def bank_list(request):
    banks = services.visible_banks(request.user).with_counts().order_by("name")
    return render(request, "banks/list.html", {"banks": banks})


@permission_required("banks.manage_banks", raise_exception=True)
def bank_edit(request, pk: int | None = None):
    bank = get_object_or_404(Bank, pk=pk) if pk is not None else None
    form = BankForm(request.POST or None, instance=bank)
    if request.method == "POST" and form.is_valid():
        try:
            bank = services.save_bank(
                form.save(commit=False), match_accounts=form.cleaned_data["match_accounts"], by=request.user
            )
        except services.BankError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Bank “{bank.name}” saved.")
            return redirect("banks:detail", pk=bank.pk)
    return render(
        request, "banks/bank_form.html", {"form": form, "bank": bank}, status=400 if form.errors else 200
    )


@permission_required("banks.view_banks", raise_exception=True)
def bank_detail(request, pk: int):
    bank = _visible_bank(request, pk)
    status = request.GET.get("status", "")
    entries = bank.entries.select_related("proposed_by").order_by("-pk")
    if status in BankEntry.Status.values:
        entries = entries.filter(status=status)
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "banks/detail.html",
        {
            "bank": bank,
            "page": page,
            "status": status,
            "statuses": BankEntry.Status.choices,
            "propose_form": ProposeForm(),
            "picture_form": PictureProposeForm(),
            "keeps_keypoints": settings.MATCH_FEATURES,
        },
    )


@permission_required("banks.propose_entry", raise_exception=True)
@require_POST
def propose(request, pk: int):
    bank = _visible_bank(request, pk)
    form = ProposeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.propose_entry(
                bank,
                signal_type=data["signal_type"],
                value=data["value"],
                classification=data["classification"],
                category=data["category"],
                quality=data["quality"],
                source_ref=data["source_ref"],
                by=request.user,
                request=request,
            )
        except services.BankError as error:
            form.add_error(None, str(error))
        else:
            if entry.status == BankEntry.Status.PENDING:
                messages.success(request, f"Entry {entry.pk} proposed; it waits for confirmation.")
            else:
                messages.success(request, f"Entry {entry.pk} added and active.")
            return redirect("banks:detail", pk=bank.pk)
    page = Paginator(bank.entries.order_by("-pk"), ENTRIES_PER_PAGE).get_page(1)
    context = {"bank": bank, "page": page, "statuses": BankEntry.Status.choices, "propose_form": form}
    return render(request, "banks/detail.html", context, status=400)


@csrf_exempt  # only to set the upload handler first; _propose_picture checks the CSRF token
@require_POST
def propose_picture(request, pk: int):
    """Propose an uploaded picture to a bank by its PDQ (and keypoints, ``OPENMNR_MATCH_FEATURES``)."""
    request.upload_handlers = [InMemoryUploads(request)]
    return _propose_picture(request, pk)


@csrf_protect
@permission_required("banks.propose_entry", raise_exception=True)
def _propose_picture(request, pk: int):
    bank = _visible_bank(request, pk)
    form = PictureProposeForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.propose_picture(
                bank,
                media.read_bytes(data["file"]),
                classification=data["classification"],
                category=data["category"],
                source_ref=data["source_ref"],
                by=request.user,
                request=request,
            )
        except (services.BankError, media.MediaError) as error:
            form.add_error(None, str(error))
        else:
            kept = " with its keypoints" if settings.MATCH_FEATURES else ""
            waits = (
                "; it waits for confirmation" if entry.status == BankEntry.Status.PENDING else " and active"
            )
            messages.success(request, f"Picture entry {entry.pk} (PDQ{kept}) proposed{waits}.")
            return redirect("banks:detail", pk=bank.pk)
    page = Paginator(bank.entries.order_by("-pk"), ENTRIES_PER_PAGE).get_page(1)
    context = {
        "bank": bank,
        "page": page,
        "statuses": BankEntry.Status.choices,
        "propose_form": ProposeForm(),
        "picture_form": form,
        "keeps_keypoints": settings.MATCH_FEATURES,
    }
    return render(request, "banks/detail.html", context, status=400)


@permission_required("banks.confirm_entry", raise_exception=True)
def queue(request):
    context = {
        "entries": services.pending_entries(request.user)[:200],
        "imports": services.pending_imports(request.user),
        "required": services.confirmations_required(),
    }
    return render(request, "banks/queue.html", context)


def _refusal_or_success(request, action, success: str):
    try:
        action()
    except services.BankError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, success)


@permission_required("banks.confirm_entry", raise_exception=True)
@require_POST
def confirm_entry(request, pk: int):
    entry = get_object_or_404(BankEntry, pk=pk)
    _refusal_or_success(
        request,
        lambda: services.confirm_entry(entry, by=request.user, request=request),
        f"Confirmation of entry {pk} recorded.",
    )
    return redirect("banks:queue")


@permission_required("banks.confirm_entry", raise_exception=True)
@require_POST
def confirm_import(request, pk: int):
    batch = get_object_or_404(ImportBatch, pk=pk)
    _refusal_or_success(
        request,
        lambda: services.confirm_import(batch, by=request.user, request=request),
        f"Confirmation of import {pk} recorded.",
    )
    return redirect("banks:queue")


@permission_required("banks.disable_entry", raise_exception=True)
@require_POST
def disable_entry(request, pk: int):
    entry = get_object_or_404(BankEntry, pk=pk)
    form = DisableForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason for disabling the entry.")
    else:
        _refusal_or_success(
            request,
            lambda: services.disable_entry(
                entry, by=request.user, reason=form.cleaned_data["reason"], request=request
            ),
            f"Entry {pk} disabled.",
        )
    return redirect("banks:detail", pk=entry.bank_id)


@permission_required("banks.import_entries", raise_exception=True)
def import_list(request, pk: int):
    bank = _visible_bank(request, pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.import_entries(
                bank,
                data["file"].read(),
                fmt=data["format"],
                by=request.user,
                classification=data["classification"],
                category=data["category"],
                source_ref=data["source_ref"],
                file_name=data["file"].name,
                passphrase=data["passphrase"],
                request=request,
            )
        except services.BankError as error:
            form.add_error(None, str(error))
        else:
            waiting = " They wait for confirmation of the import." if batch.activated_at is None else ""
            messages.success(request, f"Read {batch.read} records, added {batch.added} new entries.{waiting}")
            return redirect("banks:detail", pk=bank.pk)
    return render(
        request, "banks/import.html", {"bank": bank, "form": form}, status=400 if form.errors else 200
    )


@permission_required("banks.export_bank", raise_exception=True)
@never_cache
def export_list(request, pk: int):
    bank = _visible_bank(request, pk)
    if request.method == "POST":
        return _export(request, bank)
    return render(request, "banks/export.html", {"bank": bank, "form": ExportForm()})


@step_up_required
def _export(request, bank):
    form = ExportForm(request.POST)
    if form.is_valid():
        try:
            name, data = services.export_bank(
                bank,
                fmt=form.cleaned_data["format"],
                passphrase=form.cleaned_data["passphrase"],
                by=request.user,
                request=request,
            )
        except services.BankError as error:
            form.add_error(None, str(error))
        else:
            response = HttpResponse(data, content_type="application/octet-stream")
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
    return render(request, "banks/export.html", {"bank": bank, "form": form}, status=400)


@permission_required("banks.view_index_status", raise_exception=True)
def index_status(request):
    return render(request, "banks/index_status.html", {"status": services.index_status(request.user)})


@csrf_exempt  # only to set the upload handler first; _match_page checks the CSRF token
@never_cache
def match_page(request):
    """Check a picture, a video or hashes against the banks this analyst may match."""
    request.upload_handlers = [InMemoryUploads(request)]
    return _match_page(request)


@csrf_protect
@permission_required(["banks.view_banks", "banks.match_hashes"], raise_exception=True)
def _match_page(request):
    form = MatchForm(request.POST or None, request.FILES or None)
    result = None
    computed = []
    video_form = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["file"]:
                signals = services.upload_signals(media.read_bytes(data["file"]))
            else:
                signals = form.signals()
            [result] = services.match([signals], user=request.user, request=request)
        except (services.BankError, media.MediaError) as error:
            form.add_error(None, str(error))
        else:
            computed = services.describe_signals(signals)
            if "vpdq" in signals and request.user.has_perm("banks.propose_entry"):
                video_form = VideoProposeForm(
                    initial={"value": getattr(signals["vpdq"], "value", signals["vpdq"])},
                    banks=services.visible_banks(request.user),
                )
    status = 400 if form.errors else 200
    context = {"form": form, "result": result, "computed": computed, "video_form": video_form}
    return render(request, "banks/match.html", context, status=status)


@permission_required("banks.propose_entry", raise_exception=True)
@require_POST
def propose_video(request):
    """Propose the video hashed on the match page to a bank (its vPDQ, as computed there)."""
    form = VideoProposeForm(request.POST, banks=services.visible_banks(request.user))
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = services.propose_entry(
                data["bank"],
                signal_type="vpdq",
                value=data["value"],
                classification=data["classification"],
                category=data["category"],
                source_ref=data["source_ref"],
                by=request.user,
                request=request,
            )
        except services.BankError as error:
            messages.error(request, f"The video was not proposed: {error}")
            return redirect("banks:match")
        if entry.status == BankEntry.Status.PENDING:
            messages.success(request, f"Video entry {entry.pk} proposed; it waits for confirmation.")
        else:
            messages.success(request, f"Video entry {entry.pk} added and active.")
        return redirect("banks:detail", pk=data["bank"].pk)
    problems = (
        "; ".join(
            f"{form.fields[name].label or name}: {' '.join(errs)}"
            for name, errs in form.errors.items()
            if name in form.fields
        )
        or "the form was incomplete"
    )
    messages.error(request, f"The video was not proposed ({problems}). Upload it again.")
    return redirect("banks:match")
