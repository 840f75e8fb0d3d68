"""What a failed call means, as exceptions a notebook can catch by kind (the gRPC status stays on .code)."""
from __future__ import annotations

import grpc


class OrchestratorError(Exception):
    """A call the coordinator refused or could not answer; .code is the gRPC status, .details the server's message."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class InvalidSweep(OrchestratorError):
    """Bad input (INVALID_ARGUMENT, FAILED_PRECONDITION): the message says what, where (file:line:column) and how to fix it."""


class NotFound(OrchestratorError):
    """No sweep of that name on this coordinator (NOT_FOUND)."""


class PermissionDenied(OrchestratorError):
    """A missing or wrong token (UNAUTHENTICATED), or a path outside the coordinator's allowed roots (PERMISSION_DENIED)."""


class Unavailable(OrchestratorError):
    """The coordinator could not be reached (UNAVAILABLE, DEADLINE_EXCEEDED)."""


_BY_CODE = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidSweep,
    grpc.StatusCode.FAILED_PRECONDITION: InvalidSweep,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.UNAUTHENTICATED: PermissionDenied,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: Unavailable,
}


def translate(error: grpc.RpcError) -> OrchestratorError:
    code: grpc.StatusCode = error.code()  # type: ignore[attr-defined]
    details: str = error.details() or ""  # type: ignore[attr-defined]
    return _BY_CODE.get(code, OrchestratorError)(code, details)
