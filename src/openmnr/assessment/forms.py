"""Forms of the assessment pages. They check the shape of the input; the workflow rules (who, when,
which criteria exist) are checked again by services.py, which is what the API and the demo call too."""

from django import forms

from openmnr.core.mnr import available_versions

from .documents import allowed_types_label, max_bytes
from .models import CapabilityAssessment, Evidence


class DateInput(forms.DateInput):
    input_type = "date"


class OpenCycleForm(forms.Form):
    country = forms.CharField(max_length=100)
    period_start = forms.DateField(widget=DateInput, label="Period starts")
    period_end = forms.DateField(widget=DateInput, label="Period ends")
    framework_version = forms.ChoiceField(
        label="Framework version", help_text="The cycle keeps this version for good."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        versions = available_versions()
        self.fields["framework_version"].choices = [(v, v) for v in versions]
        self.fields["framework_version"].initial = versions[-1] if versions else None

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The period must end on or after the day it starts.")
        return data


class AssignDomainForm(forms.Form):
    contributors = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    weight = forms.FloatField(
        label="Threat weight",
        min_value=0.01,
        max_value=100,
        help_text="How much this domain's actions weigh in the plan (1 = normal).",
    )

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.users = {str(u.pk): u for u in users}
        self.fields["contributors"].choices = [(str(u.pk), u.get_username()) for u in users]

    def chosen_users(self):
        return [self.users[pk] for pk in self.cleaned_data["contributors"]]


def _level_choices(framework):
    return [(lv.number, f"{lv.number} {lv.name}") for lv in framework.levels]


class CapabilityForm(forms.Form):
    current_level = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Current level")
    target_level = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label="Target level")
    criteria_met = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Criteria met"
    )
    confidence = forms.ChoiceField(
        choices=CapabilityAssessment.Confidence.choices, widget=forms.RadioSelect, label="Confidence"
    )
    stakeholder = forms.CharField(
        max_length=200,
        required=False,
        label="Responsible stakeholder",
        help_text="The organisation that owns this capability's actions in the plan.",
    )

    def __init__(self, *args, framework, capability, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["current_level"].choices = _level_choices(framework)
        self.fields["target_level"].choices = _level_choices(framework)
        self.fields["criteria_met"].choices = [(c.id, f"{c.id} {c.text}") for c in capability.criteria]


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(choices=Evidence.Kind.choices, widget=forms.RadioSelect, label="Kind")
    title = forms.CharField(max_length=200)
    criterion = forms.ChoiceField(required=False, label="Criterion it supports")
    url = forms.URLField(
        required=False, max_length=2000, assume_scheme="https", label="Link", help_text="For a link."
    )
    note = forms.CharField(required=False, widget=forms.Textarea, help_text="For a note.")
    document = forms.FileField(required=False, help_text="For a document.")

    def __init__(self, *args, capability, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criterion"].choices = [("", "none in particular")] + [
            (c.id, f"{c.id} {c.text}") for c in capability.criteria
        ]
        limit = max_bytes() / (1024 * 1024)
        self.fields["document"].help_text = f"For a document: {allowed_types_label()}; at most {limit:g} MiB."


class CommentForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea, label="Comment", max_length=5000)
    capability = forms.IntegerField(required=False, widget=forms.HiddenInput)


class ResultsExportForm(forms.Form):
    include_evidence = forms.BooleanField(
        required=False,
        label="Include the evidence (links, notes and documents)",
        help_text="Without it the package holds levels, confidence, criteria met, live indicators and planned steps only.",
    )


class ImportResultsForm(forms.Form):
    package = forms.FileField(
        label="Signed results file (.zip)",
        help_text="Accepted only when it verifies under the key an administrator set for the country it names.",
    )


class PeerKeyForm(forms.Form):
    country = forms.CharField(max_length=100)
    public_key = forms.CharField(
        widget=forms.Textarea,
        label="Ed25519 public key (PEM)",
        help_text="As the other country's coordinator gives it: -----BEGIN PUBLIC KEY----- ...",
        max_length=2000,
    )
