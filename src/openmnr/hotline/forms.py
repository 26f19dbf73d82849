from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from openmnr.core.signals.url import MAX_URL_LENGTH, InvalidURL, canonicalize

from . import classification, codes
from .classification import Assessment, Classification
from .errors import InvalidTrackingCode
from .intake import ReportInput
from .models import ContentKind, FoundWhere
from .states import State


class ReportForm(forms.Form):
    urls = forms.CharField(
        label=_("Web addresses"),
        help_text=_("One address per line. Copy it from your browser's address bar."),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
    )
    found_where = forms.ChoiceField(
        label=_("Where did you find it?"), choices=FoundWhere.choices, widget=forms.RadioSelect
    )
    content_kind = forms.ChoiceField(
        label=_("What does it show?"), choices=ContentKind.choices, widget=forms.RadioSelect
    )
    description = forms.CharField(
        label=_("Anything else we should know (optional)"),
        help_text=_("For example how you came across it. Please do not write your name."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    email = forms.EmailField(
        label=_("Your email address (optional)"),
        help_text=_("Only if you want us to be able to write back. Leave it empty to stay anonymous."),
        required=False,
    )

    def clean_urls(self):
        """Checked here as well as in intake so that the reporter reads the reason in their language.
        An address without a scheme (``example.org/page``, as many people copy it) is read with
        ``https://`` in front; ``completed`` lists those, to be shown back on the next page."""
        lines = [line.strip() for line in self.cleaned_data["urls"].splitlines() if line.strip()]
        self.completed = []
        for number, line in enumerate(lines, start=1):
            if len(line) > MAX_URL_LENGTH:
                raise forms.ValidationError(
                    _(
                        "Address %(number)s is %(length)s characters long; we can check addresses of "
                        "up to %(limit)s characters."
                    ),
                    params={"number": number, "length": len(line), "limit": MAX_URL_LENGTH},
                )
            if "://" not in line and not line.lower().startswith(("http:", "https:")):
                line = lines[number - 1] = "https://" + line
                self.completed.append((number, line))
            try:
                canonicalize(line)
            except InvalidURL:
                raise forms.ValidationError(
                    _(
                        "Address %(number)s is not a web address we can check. It should look like "
                        "https://example.com/page."
                    ),
                    params={"number": number},
                ) from None
        if len(lines) > settings.HOTLINE_MAX_URLS_PER_REPORT:
            raise forms.ValidationError(
                _("Please send at most %(count)s addresses in one report."),
                params={"count": settings.HOTLINE_MAX_URLS_PER_REPORT},
            )
        return lines

    def report(self) -> ReportInput:
        data = self.cleaned_data
        return ReportInput(
            urls=data["urls"],
            found_where=data["found_where"],
            content_kind=data["content_kind"],
            description=data["description"],
            email=data["email"],
        )


class StatusForm(forms.Form):
    code = forms.CharField(
        label=_("Tracking code"),
        help_text=_("The code you were given when you sent the report, for example 7KQ2-M9XD-…"),
        max_length=60,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}
        ),
    )

    def clean_code(self):
        try:
            return codes.normalise(self.cleaned_data["code"])
        except InvalidTrackingCode:
            raise forms.ValidationError(
                _("This is not a tracking code we issue: check each character and try again.")
            ) from None


def _with_blank(choices):
    return [("", "—"), *choices]


class ClassificationForm(forms.Form):
    """One item's classification, or a media-less page's outcome. Labels in English like the other
    staff pages."""

    assessment = forms.ChoiceField(choices=Assessment.choices, widget=forms.RadioSelect)
    category = forms.ChoiceField(required=False, help_text="Required for illegal material.")
    age_group = forms.ChoiceField(
        label="Apparent age group", required=False, help_text="Required for illegal material."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = _with_blank(classification.categories())
        self.fields["age_group"].choices = _with_blank(classification.age_groups())

    def classification(self) -> Classification:
        data = self.cleaned_data
        return Classification(data["assessment"], data["category"], data["age_group"])


class SetAsideForm(forms.Form):
    to = forms.ChoiceField(
        label="Set the case aside as",
        choices=[(State.DUPLICATE, "A duplicate of another case"), (State.NOT_ACTIONABLE, "Not actionable")],
        widget=forms.RadioSelect,
    )
    duplicate_of = forms.IntegerField(label="Duplicate of case number", required=False, min_value=1)
    reason = forms.CharField(max_length=500)


class ProposeForm(forms.Form):
    bank = forms.TypedChoiceField(coerce=int, label="Propose its hashes to the bank")

    def __init__(self, *args, banks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].choices = list(banks)
