from django import forms
from django.core.validators import validate_email

from .models import DirectoryEntry, EntryKind


class DecideForm(forms.Form):
    """An analyst routes a case by hand: notices to given addresses, or a forward to a partner."""

    emails = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Send notices to these addresses",
        help_text="One e-mail address per line, for example the origin host a CDN named.",
    )
    partner = forms.ModelChoiceField(
        queryset=DirectoryEntry.objects.none(),
        required=False,
        label="Or forward to",
        empty_label="(nobody)",
    )
    note = forms.CharField(required=False, max_length=200, label="Recipient name or note")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = DirectoryEntry.objects.filter(
            kind__in=[EntryKind.PARTNER, EntryKind.FALLBACK], active=True
        )

    def clean_emails(self):
        emails = [line.strip() for line in self.cleaned_data["emails"].splitlines() if line.strip()]
        for email in emails:
            validate_email(email)
        return emails

    def clean(self):
        data = super().clean()
        if bool(data.get("emails")) == bool(data.get("partner")):
            raise forms.ValidationError("Give either the addresses to notify or the partner to forward to.")
        return data


class ReferralForm(forms.Form):
    recipient = forms.ModelChoiceField(
        queryset=DirectoryEntry.objects.none(), label="Law-enforcement recipient", empty_label=None
    )

    def __init__(self, *args, **kwargs):
        from .referrals import recipients

        super().__init__(*args, **kwargs)
        self.fields["recipient"].queryset = recipients()


class AcknowledgeForm(forms.Form):
    message = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Message to the hotline (optional)",
        help_text="For example, when you removed the content or whom we should write to next time.",
    )
