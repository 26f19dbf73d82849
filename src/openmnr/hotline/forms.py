from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from openmnr.core.signals.url import MAX_URL_LENGTH, InvalidURL, canonicalize
from openmnr.core.vocabulary import vocabulary

from . import classification, codes
from .classification import Assessment, Classification, Site
from .errors import InvalidTrackingCode
from .intake import ReportInput
from .models import NO_URL_THEMES, ContentKind, FoundWhere
from .states import State


class ReportForm(forms.Form):
    urls = forms.CharField(
        label=_("Web addresses"),
        help_text=_(
            "One address per line. Copy it from your browser's address bar. Reports of sexual "
            "extortion or grooming may leave this empty and describe what happened instead."
        ),
        required=False,
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
        help_text=_(
            "For example how you came across it. Please do not write your name. Without a web "
            "address, tell us what happened here."
        ),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    platform = forms.CharField(
        label=_("Where did it happen? (optional)"),
        help_text=_("The app, game or site, for example the name of a chat app."),
        required=False,
        max_length=200,
    )
    username = forms.CharField(
        label=_("The other person's user name there (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
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

    def clean(self):
        data = super().clean()
        if "urls" in data and not data["urls"]:
            if data.get("content_kind") not in NO_URL_THEMES:
                self.add_error(
                    "urls",
                    _(
                        "Give at least one web address. Only reports of sexual extortion or grooming may come without one."
                    ),
                )
            elif not (data.get("description") or "").strip():
                self.add_error("description", _("Without a web address, tell us what happened."))
        return data

    def report(self) -> ReportInput:
        data = self.cleaned_data
        return ReportInput(
            urls=data["urls"],
            found_where=data["found_where"],
            content_kind=data["content_kind"],
            description=data["description"],
            email=data["email"],
            platform=data["platform"],
            username=data["username"],
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


class KeyedRadioSelect(forms.RadioSelect):
    """Radio buttons whose choices carry their key (1, 2, ...) for classify.js."""

    option_template_name = "hotline/_keyed_option.html"


class KeyedCheckboxes(forms.CheckboxSelectMultiple):
    option_template_name = "hotline/_keyed_option.html"


class ClassificationForm(forms.Form):
    """One item's classification, or a media-less page's outcome. Labels in English like the other
    staff pages, from the vocabulary (never a raw code).

    Keyboard first, as analysts at the IWF work: each group is a row of choices numbered 1, 2, ...;
    with classify.js, typing a number picks that choice of the current group and moves to the next
    (groups that do not apply to the chosen assessment are skipped, 0 skips a group), and Enter
    saves, so "1 1 2 2 Enter" is a whole classification. Without script the radio groups work with
    Tab and the arrow keys."""

    assessment = forms.ChoiceField(label="Assessment", choices=Assessment.choices, widget=KeyedRadioSelect)
    category = forms.ChoiceField(
        required=False, help_text="Required for illegal material.", widget=KeyedRadioSelect
    )
    age_group = forms.ChoiceField(
        label="Apparent age group",
        required=False,
        help_text="Required for illegal material; baseline needs a baseline age group.",
        widget=KeyedRadioSelect,
    )
    gender = forms.ChoiceField(required=False, widget=KeyedRadioSelect)
    content_type = forms.ChoiceField(label="Content type", required=False, widget=KeyedRadioSelect)
    flags = forms.MultipleChoiceField(
        required=False,
        widget=KeyedCheckboxes,
        help_text="AI-generated counts as virtual; virtual material is never baseline.",
    )

    ILLEGAL_ONLY = ("category", "age_group")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = classification.categories()
        self.fields["age_group"].choices = classification.age_groups()
        self.fields["gender"].choices = classification.genders()
        self.fields["content_type"].choices = classification.content_types()
        self.fields["flags"].choices = classification.flag_choices()

    @classmethod
    def for_item(cls, item, data=None):
        """The form for `item`, showing its current classification (or its content type as
        triage saw it), or bound to the analyst's `data` after an error."""
        initial = {
            "assessment": item.assessment,
            "category": item.category,
            "age_group": item.age_group,
            "gender": item.gender,
            "content_type": item.content_type or ("video" if item.is_video else "image"),
            "flags": item.flags or [],
        }
        return cls(data, initial=initial) if data is not None else cls(initial=initial)

    def classification(self) -> Classification:
        data = self.cleaned_data
        return Classification(
            data["assessment"],
            data["category"],
            data["age_group"],
            gender=data["gender"],
            content_type=data["content_type"],
            flags=tuple(data["flags"]),
        )


class SiteForm(forms.Form):
    """What the site of a case is, as ICCAM records it per report."""

    site_type = forms.ChoiceField(label="Site type", required=False)
    commerciality = forms.ChoiceField(required=False)
    payment_methods = forms.MultipleChoiceField(
        label="Payment methods", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        vocab = vocabulary()
        self.fields["site_type"].choices = _with_blank(vocab.list("site_type").choices())
        self.fields["commerciality"].choices = _with_blank(vocab.list("commerciality").choices())
        self.fields["payment_methods"].choices = vocab.list("payment_method").choices()

    def site(self) -> Site:
        data = self.cleaned_data
        return Site(data["site_type"], data["commerciality"], tuple(data["payment_methods"]))


class HoldForm(forms.Form):
    hold_for_police = forms.CharField(
        label="Hold for the police first (optional)",
        required=False,
        max_length=500,
        help_text="A reason here holds an illegal case: the referral goes first, no notice reaches "
        "the host until law enforcement releases it.",
    )


class KeepHoldForm(forms.Form):
    reason = forms.CharField(label="Why the hold stays", max_length=500)
    review_at = forms.DateField(
        label="Review on", widget=forms.DateInput(attrs={"type": "date"}), help_text="A reminder comes then."
    )


class ReleaseHoldForm(forms.Form):
    reason = forms.CharField(label="Note (optional)", max_length=500, required=False)


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
