"""Domain errors: one base class, a stable ``code`` and HTTP ``status`` per kind of failure.

The codes are the ones CONTRACT.md promises to clients; one handler in the HTTP layer maps
any ``DomainError`` to ``{"error": {"code", "message", "details"}}`` with its status.
"""

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(DomainError):
    """The input is malformed; ``details`` maps each bad field to its messages."""

    code = "validation_error"
    status = 400


class NotFound(DomainError):
    code = "not_found"
    status = 404


class VersionConflict(DomainError):
    """``expected_version`` is stale; ``details.current_version`` says what it is now."""

    code = "version_conflict"
    status = 409

    def __init__(self, *, aggregate: str, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"{aggregate} is at version {current_version}, not {expected_version}",
            details={"expected_version": expected_version, "current_version": current_version},
        )
        self.current_version = current_version


class InvalidTransition(DomainError):
    code = "invalid_transition"
    status = 409


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 409


class InvariantViolated(DomainError):
    """The input is well formed but the change would break a business rule."""

    code = "invariant_violated"
    status = 422
