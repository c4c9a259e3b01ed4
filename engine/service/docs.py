"""The interactive API documentation, served offline: Swagger UI at /docs and ReDoc at /redoc,
with their JavaScript and CSS from the `fastapi-offline` package (no CDN, no Google Fonts).

Two things in those bundles would still reach out: Swagger UI's validator badge (turned off with
`validatorUrl: null`) and the vendor logo ReDoc draws from its CDN in the sidebar footer, which
/static-docs/redoc.js replaces by this service's own icon (the bundle is otherwise served as shipped).
"""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC_URL = "/static-docs"
# Everything from this service; nothing else. ReDoc draws its vendor's logo from a CDN in the
# sidebar footer: the policy stops that request in the browser (the image is simply not shown).
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' blob:; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")


def assets_dir() -> Path:
    """The directory holding the Swagger UI and ReDoc assets (those of the fastapi-offline package)."""
    import fastapi_offline

    return Path(fastapi_offline.__file__).parent / "static"


REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@functools.lru_cache(maxsize=1)
def redoc_bundle() -> bytes:
    """redoc.standalone.js with its CDN logo replaced by the local icon."""
    text = (assets_dir() / "redoc.standalone.js").read_text(encoding="utf-8")
    return text.replace(REDOC_LOGO, f"{STATIC_URL}/favicon.png").encode("utf-8")


def install_docs(app: FastAPI, docs_url: str = "/docs", redoc_url: str = "/redoc") -> None:
    """Mount the assets and add the two documentation pages to `app` (created with docs_url=None, redoc_url=None)."""

    @app.get(f"{STATIC_URL}/redoc.js", include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(
            redoc_bundle(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount(STATIC_URL, StaticFiles(directory=str(assets_dir())), name="static-docs")
    redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · Swagger UI",
            oauth2_redirect_url=f"{root}{redirect}",
            swagger_js_url=f"{root}{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            swagger_ui_parameters={"validatorUrl": None},
        )
        page.headers["Content-Security-Policy"] = CSP
        return page

    @app.get(redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(redoc_url, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = CSP
        return page
