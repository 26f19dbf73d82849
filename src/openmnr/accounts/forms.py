from django import forms
from django.contrib.auth import get_user_model

from .roles import api_role_names


class SignInForm(forms.Form):
    username = forms.CharField(max_length=150, widget=forms.TextInput(attrs={"autocomplete": "username"}))
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    token = forms.CharField(
        label="Authenticator code",
        required=False,
        max_length=10,
        help_text="The six digits your authenticator app shows. Leave empty only when setting it up.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Authenticator code",
        max_length=10,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=200)
    owner = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        help_text="An account of an API-only role (industry member, partner hotline, licensee); the key "
        "acts with its role.",
    )
    scopes = forms.MultipleChoiceField(choices=(), required=False, widget=forms.CheckboxSelectMultiple)
    rate_limit_per_minute = forms.IntegerField(min_value=1, max_value=100_000, initial=600)

    def __init__(self, *args, scope_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = scope_choices
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(is_active=True, groups__name__in=api_role_names()).distinct()
        )
