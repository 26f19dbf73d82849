from django import forms
from django.contrib.auth import get_user_model

from openmnr.accounts.roles import ROLES

from . import crypto
from .models import Bank, Classification, signal_types

FORMAT_CHOICES = [
    ("local", "ThreatExchange local file (<signal_type> <value> per line)"),
    ("csv", "CSV with a header row"),
    ("json", "JSON Lines"),
]


class BankForm(forms.ModelForm):
    match_roles = forms.MultipleChoiceField(
        choices=[(role.name, role.label) for role in ROLES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Members of these roles, and their API keys, may match against the bank (and staff among "
        "them may see it).",
    )

    class Meta:
        model = Bank
        fields = ["name", "description", "purpose", "enabled", "provenance", "match_roles", "match_accounts"]
        widgets = {"match_accounts": forms.CheckboxSelectMultiple}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["match_accounts"].queryset = (
            get_user_model()
            .objects.filter(groups__name__in=["industry_member", "partner_hotline"])
            .distinct()
            .order_by("username")
        )


def _hex_signal_types() -> dict:
    """The bank's signal types whose values are one hex digest. A value longer than a key (a vPDQ
    frame list) does not fit a form field: videos are proposed from a reported item, through the
    API or in an import (JSON Lines)."""
    return {name: cls for name, cls in signal_types().items() if cls.digits is not None}


class ProposeForm(forms.Form):
    signal_type = forms.ChoiceField(choices=())
    value = forms.CharField(max_length=80, help_text="The hash in hexadecimal.")
    classification = forms.ChoiceField(choices=Classification.choices)
    category = forms.CharField(max_length=64, required=False)
    quality = forms.IntegerField(
        min_value=0, max_value=100, required=False, help_text="PDQ quality, if known."
    )
    source_ref = forms.CharField(
        max_length=200, required=False, label="Source", help_text="The report or case it comes from."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["signal_type"].choices = [(name, cls.label) for name, cls in _hex_signal_types().items()]


class PictureProposeForm(forms.Form):
    """Propose a picture by upload: the server computes its PDQ hash (and, with
    OPENMNR_MATCH_FEATURES on, keeps its keypoints); the picture is hashed in memory, not kept."""

    file = forms.FileField(label="Picture", help_text="Hashed in memory and not kept.")
    classification = forms.ChoiceField(choices=Classification.choices)
    category = forms.CharField(max_length=64, required=False)
    source_ref = forms.CharField(
        max_length=200, required=False, label="Source", help_text="The report or case it comes from."
    )


class VideoProposeForm(forms.Form):
    """Propose a video, hashed on the match page, to a bank: its vPDQ travels back in a hidden field
    (the analyst proposes what they uploaded; the bank checks the value like any other)."""

    bank = forms.ModelChoiceField(queryset=Bank.objects.none(), help_text="The bank to add the video to.")
    value = forms.CharField(widget=forms.HiddenInput, max_length=2_000_000)
    classification = forms.ChoiceField(choices=Classification.choices)
    category = forms.CharField(max_length=64, required=False)
    source_ref = forms.CharField(
        max_length=200, required=False, label="Source", help_text="The report or case it comes from."
    )

    def __init__(self, *args, banks=None, **kwargs):
        super().__init__(*args, **kwargs)
        if banks is not None:
            self.fields["bank"].queryset = banks


class DisableForm(forms.Form):
    reason = forms.CharField(max_length=500)


class ImportForm(forms.Form):
    file = forms.FileField()
    format = forms.ChoiceField(choices=FORMAT_CHOICES)
    classification = forms.ChoiceField(
        choices=Classification.choices, help_text="For records that carry no classification of their own."
    )
    category = forms.CharField(max_length=64, required=False)
    source_ref = forms.CharField(
        max_length=200, required=False, label="Source", help_text="Who sent the list."
    )
    passphrase = forms.CharField(
        required=False,
        widget=forms.PasswordInput,
        help_text="Only for a file exported encrypted by OpenMNR.",
    )


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=FORMAT_CHOICES)
    passphrase = forms.CharField(
        min_length=crypto.MIN_PASSPHRASE,
        widget=forms.PasswordInput,
        help_text=f"At least {crypto.MIN_PASSPHRASE} characters. The file is encrypted with it (AES-256-GCM); "
        "give it to the recipient by another channel.",
    )
    passphrase_again = forms.CharField(widget=forms.PasswordInput, label="Passphrase again")

    def clean(self):
        data = super().clean()
        if data.get("passphrase") and data.get("passphrase") != data.get("passphrase_again"):
            self.add_error("passphrase_again", "The two passphrases differ.")
        return data


class MatchForm(forms.Form):
    """A picture or video to hash, or hashes to look up: what an analyst checks against the banks.
    One field per signal type whose values are one hex digest."""

    file = forms.FileField(
        required=False, label="Picture or video", help_text="Hashed in memory and not kept."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, cls in _hex_signal_types().items():
            self.fields[name] = forms.CharField(
                max_length=cls.digits * 2,  # room for spaces between groups, removed in clean
                required=False,
                label=cls.label,
                help_text=f"{cls.digits} hexadecimal digits (upper or lower case; spaces are ignored).",
            )

    def full_clean(self):
        """Hashes as the API takes them: upper or lower case, with spaces or colons between groups
        (as copied from another tool); the server then checks the digits themselves."""
        if self.is_bound:
            data = self.data.copy()
            for name in _hex_signal_types():
                if name in data:
                    data[name] = "".join(data[name].split()).replace(":", "").lower()
            self.data = data
        super().full_clean()

    def signals(self) -> dict[str, str]:
        """The hashes given, by signal type (once the form is valid)."""
        return {name: self.cleaned_data[name] for name in _hex_signal_types() if self.cleaned_data.get(name)}

    def clean(self):
        data = super().clean()
        if bool(data.get("file")) == bool(self.signals()):
            raise forms.ValidationError("Give either a file or at least one hash, not both.")
        return data
