"""The consumer runtime: one loop for every reader of the outbox (ADR 0016)."""
