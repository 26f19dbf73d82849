from django import forms
from django.contrib.auth import get_user_model

from openmnr.accounts.roles import ROLES

from . import crypto
from .models import Bank, Classification, SignalType

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


class ProposeForm(forms.Form):
    # A vPDQ value is a frame list, not a hash that fits this field: videos are proposed through the
    # API or an import (JSON Lines).
    signal_type = forms.ChoiceField(choices=[c for c in SignalType.choices if c[0] != SignalType.VPDQ])
    value = forms.CharField(max_length=80, help_text="The hash in hexadecimal.")
    classification = forms.ChoiceField(choices=Classification.choices)
    category = forms.CharField(max_length=64, required=False)
    quality = forms.IntegerField(
        min_value=0, max_value=100, required=False, help_text="PDQ quality, if known."
    )
    source_ref = forms.CharField(
        max_length=200, required=False, label="Source", help_text="The report or case it comes from."
    )


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
    """A picture or video to hash, or hashes to look up: what an analyst checks against the banks."""

    file = forms.FileField(
        required=False, label="Picture or video", help_text="Hashed in memory and not kept."
    )
    pdq = forms.CharField(max_length=64, required=False, label="PDQ", help_text="64 hexadecimal digits.")
    md5 = forms.CharField(max_length=32, required=False, label="MD5")
    sha256 = forms.CharField(max_length=64, required=False, label="SHA-256")

    def clean(self):
        data = super().clean()
        given = [name for name in ("pdq", "md5", "sha256") if data.get(name)]
        if bool(data.get("file")) == bool(given):
            raise forms.ValidationError("Give either a file or at least one hash, not both.")
        return data
