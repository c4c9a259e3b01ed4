"""A small typed client of the medtech-rules HTTP API (`MedtechClient`); see clients/python/README.md."""

from medtech_client.client import (
    API_MAJOR,
    Answer,
    ApiError,
    Busy,
    IncompatibleApi,
    KnowledgeBaseMismatch,
    MedtechClient,
)
from medtech_client.types import (
    KNOWN_ACTIONS,
    KNOWN_CLASSES,
    KNOWN_DEADLINE_KINDS,
    KNOWN_STATUSES,
    KNOWN_WARNING_CODES,
    DecisionRequest,
    DecisionResponse,
    ErrorResponse,
    is_known,
)

__all__ = [
    "API_MAJOR",
    "KNOWN_ACTIONS",
    "KNOWN_CLASSES",
    "KNOWN_DEADLINE_KINDS",
    "KNOWN_STATUSES",
    "KNOWN_WARNING_CODES",
    "Answer",
    "ApiError",
    "Busy",
    "DecisionRequest",
    "DecisionResponse",
    "ErrorResponse",
    "IncompatibleApi",
    "KnowledgeBaseMismatch",
    "MedtechClient",
    "is_known",
]
