"""`MedtechClient`: the HTTP API over httpx, thin and typed.

Every call returns an `Answer`: the body and what the headers say (request id, API and knowledge-base
versions, digest, decision id). A non-2xx answer raises `ApiError` (412: `KnowledgeBaseMismatch`; 503
with Retry-After: `Busy`), carrying the `{"errors": [...]}` body. A server of another major API version
raises `IncompatibleApi` (minor versions only add: docs/api-compatibility.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar, cast

import httpx

from medtech_client.types import DecisionRequest, DecisionResponse, ErrorResponse, Problem

API_MAJOR = 1  # the major API version this client speaks
T = TypeVar("T")
Quotes = Literal["all", "once", "none"]
ChartFormat = Literal["svg", "png", "pdf", "dot", "mermaid"]


@dataclass(frozen=True)
class Answer(Generic[T]):
    """One answer: its body and the headers an audit record wants."""

    body: T
    status: int
    request_id: str | None
    api_version: str | None
    kb_version: str | None
    kb_digest: str | None
    decision_id: str | None


class ApiError(Exception):
    """A non-2xx answer: `status` and the problems (`errors`, each `{path, message}`)."""

    def __init__(self, status: int, body: ErrorResponse | None, request_id: str | None):
        self.status, self.body, self.request_id = status, body, request_id
        problems = body["errors"] if body else []
        text = "; ".join(f"{p.get('path') or '(request)'}: {p.get('message')}" for p in problems)
        super().__init__(f"HTTP {status}: {text or 'no details'} (request id {request_id})")

    @property
    def errors(self) -> list[Problem]:
        return list(self.body["errors"]) if self.body else []


class KnowledgeBaseMismatch(ApiError):
    """412: the service answers with another knowledge base than the pinned digest (`their_digest`)."""

    @property
    def their_digest(self) -> str | None:
        kb = self.body.get("knowledge_base") if self.body else None
        return kb.get("digest") if kb else None


class Busy(ApiError):
    """503: the service is busy (a batch) or its knowledge base is invalid; `retry_after` seconds when given."""

    retry_after: float | None = None


class IncompatibleApi(Exception):
    """The server speaks another major version of the API."""


class MedtechClient:
    """A client of one service, e.g. `MedtechClient("http://127.0.0.1:8000")`; a context manager.

    `pin_digest` sends `X-Knowledge-Base-Digest` with every call (412 when the service has another knowledge
    base); `transport` is httpx's (tests pass an `httpx.MockTransport`)."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        pin_digest: str | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        default = {"accept": "application/json", **(headers or {})}
        if pin_digest:
            default["x-knowledge-base-digest"] = pin_digest
        self._http = httpx.Client(base_url=base_url, timeout=timeout, headers=default, transport=transport)

    def __enter__(self) -> MedtechClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ---------------------------------------------------------------------------------- calls

    def decide(
        self,
        request: DecisionRequest,
        *,
        quotes: Quotes = "all",
        trace: bool = True,
        request_id: str | None = None,
        traceparent: str | None = None,
    ) -> Answer[DecisionResponse]:
        """One decision (`POST /v1/decisions`)."""
        params = _params(quotes, trace)
        r = self._send("POST", "/v1/decisions", request_id, traceparent, json=request, params=params)
        return _answer(r, cast(DecisionResponse, r.json()))

    def decide_batch(
        self,
        requests: Sequence[DecisionRequest],
        *,
        quotes: Quotes = "all",
        trace: bool = True,
        request_id: str | None = None,
    ) -> Answer[list[DecisionResponse | ErrorResponse]]:
        """Up to 1,000 decisions (`POST /v1/decisions/batch`): one answer per request, in order, each a response or
        that request's errors; give each request an `id` to match them by it."""
        r = self._send(
            "POST",
            "/v1/decisions/batch",
            request_id,
            None,
            json={"requests": list(requests)},
            params=_params(quotes, trace),
        )
        return _answer(r, cast(list[DecisionResponse | ErrorResponse], r.json()["responses"]))

    def flowchart(
        self, request: DecisionRequest, *, format: ChartFormat = "svg", chart: str = "filing"
    ) -> Answer[bytes]:
        """The request's case on the flowchart of its jurisdiction (`POST /v1/flowcharts`)."""
        r = self._send("POST", "/v1/flowcharts", None, None, json=request, params={"format": format, "chart": chart})
        return _answer(r, r.content)

    def documents(self, *, as_of: str | None = None) -> Answer[dict[str, Any]]:
        """The encoded documents (`GET /v1/documents`)."""
        r = self._send("GET", "/v1/documents", None, None, params={"as_of": as_of} if as_of else None)
        return _answer(r, cast(dict[str, Any], r.json()))

    def provision(self, document: str, eid: str) -> Answer[dict[str, Any]]:
        """One provision, verbatim (`GET /v1/documents/{document}/provisions/{eid}`)."""
        r = self._send("GET", f"/v1/documents/{document}/provisions/{eid}", None, None)
        return _answer(r, cast(dict[str, Any], r.json()))

    def health(self) -> Answer[dict[str, Any]]:
        """Status and knowledge-base digest (`GET /healthz`)."""
        r = self._send("GET", "/healthz", None, None)
        return _answer(r, cast(dict[str, Any], r.json()))

    # ---------------------------------------------------------------------------------- plumbing

    def _send(
        self, method: str, path: str, request_id: str | None, traceparent: str | None, **kwargs: Any
    ) -> httpx.Response:
        headers = {"x-request-id": request_id or uuid.uuid4().hex}
        if traceparent:
            headers["traceparent"] = traceparent
        r = self._http.request(method, path, headers=headers, **kwargs)
        version = r.headers.get("x-api-version")
        if version and version.split(".")[0] != str(API_MAJOR):
            raise IncompatibleApi(f"the service speaks API {version}; this client speaks {API_MAJOR}.x")
        if r.status_code >= 400:
            try:
                body: ErrorResponse | None = cast(ErrorResponse, r.json())
            except ValueError:
                body = None
            rid = r.headers.get("x-request-id")
            if r.status_code == 412:
                raise KnowledgeBaseMismatch(r.status_code, body, rid)
            if r.status_code == 503:
                busy = Busy(r.status_code, body, rid)
                retry = r.headers.get("retry-after")
                busy.retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
                raise busy
            raise ApiError(r.status_code, body, rid)
        return r


def _params(quotes: Quotes, trace: bool) -> dict[str, str]:
    params: dict[str, str] = {"quotes": quotes} if quotes != "all" else {}
    if not trace:
        params["trace"] = "false"
    return params


def _answer(r: httpx.Response, body: T) -> Answer[T]:
    h = r.headers
    return Answer(
        body=body,
        status=r.status_code,
        request_id=h.get("x-request-id"),
        api_version=h.get("x-api-version"),
        kb_version=h.get("x-knowledge-base-version"),
        kb_digest=h.get("x-knowledge-base-digest"),
        decision_id=h.get("x-decision-id"),
    )
