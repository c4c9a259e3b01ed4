"""HTTP semantics the service keeps on every route (issue 22):

- security headers on every response: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
  `Referrer-Policy` and a Content-Security-Policy (`PAGE_CSP`: no inline script or style, nothing
  from elsewhere, `frame-ancestors 'none'`); a route that sets its own policy (the API docs)
  keeps it, with `frame-ancestors 'none'` added;
- HEAD on every GET route: answered as the GET, without the body (`HttpSemantics`);
- 415 for a request body that is neither JSON nor YAML (`require_body_type`);
- 406 for an `Accept` that no format satisfies (`negotiated_format`);
- 422 for a query parameter an API route does not take (`known_query_parameters`, a dependency of
  every route).
"""

from __future__ import annotations

from fastapi import Request

from engine.service.errors import ApiError, error

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
JSON_TYPES = ("application/json", "text/json")
DECISION_MEDIA = (
    "application/json, text/plain, text/markdown, text/csv, text/calendar, "
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


def with_security_headers(headers: list) -> list:
    """`headers` with the security headers HttpSemantics puts on every answer (replacing any given)."""
    names = {name.lower() for name, _ in headers}
    out = [h for h in headers if h[0].lower() not in {n for n, _ in SECURITY_HEADERS}]
    out += list(SECURITY_HEADERS)
    if b"content-security-policy" in names:
        out = [
            (n, v + b"; frame-ancestors 'none'")
            if n.lower() == b"content-security-policy" and b"frame-ancestors" not in v
            else (n, v)
            for n, v in out
        ]
    else:
        out.append((b"content-security-policy", PAGE_CSP.encode()))
    return out


class HttpSemantics:
    """ASGI middleware: security headers on every response; HEAD answered as GET without a body."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        inner = {**scope, "method": "GET"} if head else scope

        async def send_secured(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_security_headers(list(message.get("headers", [])))}
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app(inner, receive, send_secured)


def body_media_type(request: Request) -> str:
    """The media type of the request's Content-Type, lower case, without parameters ("" when absent)."""
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def declares_json(media: str) -> bool:
    """Whether a body's media type (lower case, without parameters) declares JSON, `+json`, or nothing ("")."""
    return not media or media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json"))


def require_body_type(request: Request) -> None:
    """415 unless the body is declared as JSON (or `+json`), YAML, or not declared at all."""
    media = body_media_type(request)
    if declares_json(media) or media in YAML_TYPES:
        return
    raise ApiError(
        415,
        [
            {
                "path": "Content-Type",
                "message": f"{media} is not accepted: send the request as application/json or application/yaml",
            }
        ],
    )


def negotiated_format(accept: str | None, offered: str) -> str:
    """The export format `accept` asks for (engine.render.exports.format_for_accept); 406 naming
    what is offered when it accepts none of them."""
    from engine.render.exports import format_for_accept

    fmt = format_for_accept(accept)
    if fmt is None:
        raise error(406, f"no format offered here satisfies Accept: {accept} (offered: {offered})", "Accept")
    return fmt


def require_acceptable(accept: str | None, offered: tuple[str, ...]) -> None:
    """406 unless `accept` (absent: anything) admits one of the `offered` media types, directly or
    by a wildcard (`*/*`, `text/*`); a range with q=0 admits nothing."""
    if not accept or not accept.strip():
        return
    for part in accept.split(","):
        media, *params = (x.strip().lower() for x in part.split(";"))
        if any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            continue
        kind = media.split("/")[0] + "/*"
        if media == "*/*" or media in offered or any(o.startswith(kind[:-1]) for o in offered if media == kind):
            return
    raise error(406, f"no format offered here satisfies Accept: {accept} (offered: {', '.join(offered)})", "Accept")


def _query_names(dependant) -> set[str]:
    """The query parameters a route's dependant (and the dependencies under it) takes."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        dep = stack.pop()
        names.update(p.alias for p in dep.query_params)
        stack.extend(dep.dependencies)
    return names


async def known_query_parameters(request: Request) -> None:
    """422 naming a query parameter that an API route (under /v1/, /healthz, /readyz) does not take."""
    path = request.url.path
    if not (path.startswith("/v1/") or path in ("/healthz", "/readyz")) or not request.query_params:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    allowed = sorted(_query_names(dependant))
    for name in request.query_params:
        if name not in allowed:
            raise error(
                422,
                f"unknown query parameter (allowed: {', '.join(allowed) or 'none'})",
                name,
            )
