"""The one field both second-factor pages ask for: the six digits an authenticator app shows."""

import re

from django import forms
from django.core.exceptions import ValidationError


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Code from your authenticator app",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_code(self) -> str:
        """Accept the six digits with or without the space apps show in the middle."""
        code = re.sub(r"\s", "", self.cleaned_data["code"])
        if not re.fullmatch(r"[0-9]{6}", code):
            raise ValidationError("Enter the 6 digits your authenticator app shows.", code="malformed_code")
        return code
