"""The event bus: the outbox published to NATS JetStream by a relay on the consumer runtime (ADR 0019)."""
