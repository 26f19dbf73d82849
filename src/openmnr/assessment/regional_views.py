"""Pages for sharing results between countries: the signed results export of a signed-off cycle, the
peer country keys an administrator sets, the import of other countries' results and the comparison.
Thin, like views.py: permission, then one call to results.py or comparison.py."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from openmnr.accounts.stepup import step_up_required

from . import charts, comparison, documents, keys, results, services
from .errors import CycleLocked, InvalidInput, NotAllowed
from .forms import ImportResultsForm, PeerKeyForm, ResultsExportForm
from .models import Cycle, ImportedResults, PeerCountry

EXPORT = "assessment.export_cycle"
COMPARE = "assessment.compare_countries"
PEER_KEYS = "assessment.manage_peer_keys"


@permission_required(EXPORT, raise_exception=True)
@step_up_required
@never_cache
def export_results(request, cycle_id):
    """GET: what the package will hold, and the choice to add evidence. POST: the signed package."""
    cycle = get_object_or_404(Cycle, pk=cycle_id)
    if not services.can_view(request.user, cycle):
        raise PermissionDenied
    form = ResultsExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            body = results.export_results(
                request.user, cycle, include_evidence=form.cleaned_data["include_evidence"], request=request
            )
        except NotAllowed:
            raise PermissionDenied from None
        except (CycleLocked, InvalidInput) as exc:
            return render(request, "assessment/locked.html", {"cycle": cycle, "error": str(exc)}, status=409)
        name = documents.safe_stem(f"mnr-results-{cycle.country}-{cycle.period_end:%Y-%m-%d}")
        response = HttpResponse(body, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
        return response
    return render(
        request,
        "assessment/export_results.html",
        {"cycle": cycle, "form": form, "public_key": _own_public_key()},
    )


def _own_public_key() -> tuple[str, str] | None:
    """This installation's public key and its fingerprint, or None while no key is configured."""
    try:
        pem = keys.public_key_pem()
    except keys.KeyFileError:
        return None
    return pem, keys.key_fingerprint(keys.parse_public_key(pem))


@permission_required(COMPARE, raise_exception=True)
@never_cache
def comparison_page(request):
    version = request.GET.get("framework") or None
    result = comparison.compare(request.user, version)
    context = {
        "c": result,
        "import_form": ImportResultsForm(),
        "public_key": _own_public_key(),
        "imports": ImportedResults.objects.select_related("imported_by"),
    }
    if result is not None:
        context["grid"] = charts.comparison_grid(result, "chart-grid")
        context["gaps_chart"] = charts.shared_gaps_chart(result, "chart-gaps")
    return render(request, "assessment/comparison.html", context)


@require_POST
@permission_required(COMPARE, raise_exception=True)
@never_cache
def import_results(request):
    form = ImportResultsForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            row = results.import_results(request.user, form.cleaned_data["package"].read(), request=request)
        except NotAllowed:
            raise PermissionDenied from None
        except InvalidInput as exc:
            form.add_error("package", str(exc))
        else:
            messages.success(request, f"The signed results of {row.country} were verified and imported.")
            return redirect("assessment:comparison")
    result = comparison.compare(request.user)
    context = {
        "c": result,
        "import_form": form,
        "public_key": _own_public_key(),
        "imports": ImportedResults.objects.all(),
    }
    if result is not None:
        context["grid"] = charts.comparison_grid(result, "chart-grid")
        context["gaps_chart"] = charts.shared_gaps_chart(result, "chart-gaps")
    return render(request, "assessment/comparison.html", context, status=400)


@permission_required(COMPARE, raise_exception=True)
@never_cache
def imported_document(request, imported_id, sha256):
    row = get_object_or_404(ImportedResults, pk=imported_id)
    try:
        data, doc = results.open_imported_document(request.user, row, sha256, request=request)
    except NotAllowed:
        raise PermissionDenied from None
    except LookupError as exc:
        raise Http404(str(exc)) from None
    response = HttpResponse(data, content_type=doc["content_type"])
    name = documents.download_name(doc["title"] or "document", doc["content_type"])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@permission_required(PEER_KEYS, raise_exception=True)
@step_up_required
@never_cache
def peers(request):
    form = PeerKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            peer = results.set_peer_key(
                request.user, form.cleaned_data["country"], form.cleaned_data["public_key"], request=request
            )
        except NotAllowed:
            raise PermissionDenied from None
        except InvalidInput as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"Results signed by {peer.country} with key sha256:{peer.key_sha256[:16]}… are accepted.",
            )
            return redirect("assessment:peers")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "assessment/peers.html", {"form": form, "peers": PeerCountry.objects.all()}, status=status
    )


@require_POST
@permission_required(PEER_KEYS, raise_exception=True)
@step_up_required
@never_cache
def remove_peer(request, peer_id):
    peer = get_object_or_404(PeerCountry, pk=peer_id)
    try:
        results.remove_peer_key(request.user, peer, request=request)
    except NotAllowed:
        raise PermissionDenied from None
    messages.success(request, f"Results from {peer.country} are no longer accepted.")
    return redirect("assessment:peers")
