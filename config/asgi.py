"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

# Production unless told otherwise: a bare server never runs with debug or a development key (ADR 0022).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_asgi_application()
