"""``manage.py deliver_webhooks``: the webhook worker (fan-out drain and delivery threads), ADR 0020."""

import signal

from django.conf import settings
from django.core.management.base import BaseCommand

from webhooks.delivery import DeliveryWorker


class Command(BaseCommand):
    help = "Queue new events for webhook endpoints and deliver them, until SIGTERM or SIGINT."

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=settings.WEBHOOK_DELIVERY_THREADS)

    def handle(self, *args, threads: int, **options):
        worker = DeliveryWorker(threads=threads)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: worker.stop.set())
        self.stdout.write(f"delivering webhooks with {threads} threads", ending="\n")
        self.stdout.flush()
        worker.run()
