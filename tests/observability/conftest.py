"""The API's fixtures (users with one right each, token clients, a projected database), reused here."""

from tests.api.conftest import (  # noqa: F401 (fixtures)
    admin_client_api,
    anonymous_client,
    clerk_client,
    drain,
    manager_client,
    projected,
)
