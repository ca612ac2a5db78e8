"""Create or update the JetStream stream the NATS relay publishes to (safe to run on every deploy)."""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bus.client import connect
from bus.config import bus, required_duplicate_window_seconds, without_credentials
from bus.stream import ensure_stream, problems


class Command(BaseCommand):
    help = "Create or update the JetStream stream (NATS_STREAM) with file storage and the configured limits."

    def handle(self, *args, **options) -> None:
        if not settings.NATS_URL:
            raise CommandError("NATS_URL is not set: there is no event bus to set up")
        current = bus()
        if current.duplicate_window_seconds < required_duplicate_window_seconds():
            raise CommandError(
                f"NATS_DUPLICATE_WINDOW_SECONDS: {current.duplicate_window_seconds} s is shorter than the relay "
                f"needs ({required_duplicate_window_seconds():.0f} s)"
            )
        try:
            action, info = asyncio.run(self._ensure(current))
        except Exception as error:
            raise CommandError(
                f"NATS at {current.shown_url}: {without_credentials(f'{type(error).__name__} {error}')}"
            ) from None
        config = info.config
        storage = getattr(config.storage, "value", config.storage)
        self.stdout.write(
            f"{action} stream {config.name}: subjects {', '.join(config.subjects or [])}, "
            f"{storage} storage, duplicate window {config.duplicate_window:.0f} s, "
            f"max age {config.max_age or 0:.0f} s, max bytes {config.max_bytes}, max msgs {config.max_msgs}, "
            f"max msg size {config.max_msg_size}; {info.state.messages} messages"
        )
        remaining = problems(info, current)
        if remaining:
            raise CommandError("; ".join(remaining))

    async def _ensure(self, current):
        client = await connect(current, allow_reconnect=False)
        try:
            return await ensure_stream(client.jetstream(), current)
        finally:
            await client.close()
