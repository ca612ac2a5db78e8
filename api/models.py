"""API tokens, stored as a digest only (django-rest-knox's model, with a name and last-used time).

The token itself exists only in the answer that issues it (``create_api_token``, the admin's add
page): the table keeps knox's SHA-512 ``digest`` (the key looked up) and the first characters
(``token_key``) so a person can tell tokens apart. ADR 0022.
"""

from django.db import models
from knox.models import AbstractAuthToken


class ApiToken(AbstractAuthToken):
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for (a script, a shop).")
    # Written at most once per LAST_USED_RESOLUTION (api/authentication.py): reads don't write.
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "api_token"
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name or 'token'} {self.token_key[:8]}… ({self.user})"
