"""Print the bus's events from a durable JetStream consumer: see the relay at work."""

import asyncio
import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bus.client import connect
from bus.config import bus, without_credentials
from bus.messages import MSG_ID
from bus.tail import durable_name_for, pull


class Command(BaseCommand):
    help = "Print events from the stream, oldest first, through a durable consumer (it resumes where it stopped)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--subject", help="subject filter, e.g. orders.events.order.OrderShipped (default: all)")
        parser.add_argument("--durable", help="durable consumer name (default: derived from the subject)")
        parser.add_argument("--count", type=int, default=0, help="stop after this many events (default: never)")
        parser.add_argument("--idle", type=float, default=None, help="stop after this many seconds with no event")
        parser.add_argument("--json", action="store_true", help="print each event's body (the public event JSON)")
        parser.add_argument(
            "--envelope", action="store_true", help="print one JSON object per message: subject, headers and event"
        )

    def handle(self, *args, **options) -> None:
        if not settings.NATS_URL:
            raise CommandError("NATS_URL is not set: there is no event bus to read")
        try:
            asyncio.run(self._tail(options))
        except KeyboardInterrupt:
            pass
        except Exception as error:
            raise CommandError(without_credentials(f"{type(error).__name__}: {error}")) from None

    async def _tail(self, options) -> None:
        current = bus()
        subject = options["subject"] or current.subjects
        client = await connect(current)
        try:
            messages = pull(
                client.jetstream(),
                stream=current.stream,
                subject=subject,
                durable=options["durable"] or durable_name_for(subject),
                idle_seconds=options["idle"],
                limit=options["count"],
            )
            async for message in messages:
                if options["envelope"]:
                    envelope = {
                        "subject": message.subject,
                        "headers": message.headers,
                        "event": json.loads(message.data),
                    }
                    self.stdout.write(json.dumps(envelope, separators=(",", ":")))
                    continue
                if options["json"]:
                    self.stdout.write(message.data.decode())
                    continue
                event = json.loads(message.data)
                self.stdout.write(
                    f"{event['position']:>10} {message.subject} {event['aggregate_type']} {event['aggregate_id']} "
                    f"v{event['aggregate_version']} {message.headers.get(MSG_ID)}"
                )
        finally:
            await client.close()
