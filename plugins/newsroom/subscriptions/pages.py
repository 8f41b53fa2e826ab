"""The service's pages, from the theme's templates in the reader's language: which language that is, the page
itself, the explaining pages for problems, and the stylesheet the pages load from the service itself."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jinja2 import Environment
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from newsroom.core.model import TYPES, Publisher
from newsroom.subscriptions.config import ServiceConfig
from newsroom.subscriptions.guard import loggable
from newsroom.subscriptions.problems import Problem

log = logging.getLogger("newsroom.subscriptions.service")


def accepted_languages(header: str) -> list[str]:
    """The primary language subtags of an Accept-Language header, most wanted first."""
    weighted = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        if tag and quality > 0:
            weighted.append((-quality, position, tag.split("-")[0].lower()))
    return [tag for _, _, tag in sorted(weighted)]


def stylesheet(path: Path, publisher: Publisher) -> bytes:
    """The site's stylesheet with the publisher's colour, served from here: the pages load nothing from elsewhere."""
    return path.read_bytes() + f"\n:root {{ --brand: {publisher.brand_color}; }}\n".encode()


LOGO_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}


def own_assets(theme: Path, publisher: Publisher) -> dict[str, tuple[bytes, str]]:
    """What the pages' header loads besides the stylesheet, by path: the menu's script and the publisher's logo
    (service/base.html names them), read once and served from here."""
    assets = {"/static/js/menu.js": ((theme / "static" / "js" / "menu.js").read_bytes(), "text/javascript")}
    if publisher.logo is not None:
        kind = LOGO_TYPES.get(publisher.logo.suffix.lower(), "application/octet-stream")
        assets[f"/static/logo{publisher.logo.suffix}"] = (publisher.logo.read_bytes(), kind)
    return assets


class Pages:
    """Renders the service's pages for one newsroom; `consent` is each language's (version, text) shown on forms."""

    def __init__(
        self, env: Environment, config: ServiceConfig, publisher: Publisher, consent: dict[str, tuple[str, str]]
    ):
        self.env, self.config, self.publisher, self.consent = env, config, publisher, consent

    def lang(self, request: Request, *wanted: str | None, among: tuple[str, ...] = ()) -> str:
        """?lang= first, then a language the form named, then the browser's choice among `among` (or all)."""
        langs = self.config.langs
        for candidate in (request.query_params.get("lang"), *wanted):
            if candidate in langs:
                return str(candidate)
        choices = tuple(code for code in among if code in langs) or langs
        for code in accepted_languages(request.headers.get("accept-language", "")):
            if code in choices:
                return code
        return choices[0]

    def page(
        self,
        request: Request,
        template: str,
        lang: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(f"service/{template}.html").render(
            page_lang=lang,
            lang=lang,
            publisher=self.publisher,
            base_url=self.config.base_url,
            site_url=self.config.site_url,
            here=request.url.path,
            **values,
        )
        return HTMLResponse(html, status, headers={"Cache-Control": "no-store", **(headers or {})})

    def form_page(
        self, request: Request, lang: str, values: dict, errors: dict, source: str, status: int = 200
    ) -> HTMLResponse:
        return self.page(
            request,
            "subscribe",
            lang,
            status,
            consent_version=self.consent[lang][0],
            source=source,
            values=values,
            errors=errors,
            types=TYPES,
        )

    def problem_page(self, request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, Problem)
        return self.page(request, "problem", exc.lang or self.lang(request), exc.status, exc.headers, problem=exc.code)

    def too_large(self, request: Request) -> HTMLResponse:
        return self.problem_page(request, Problem(413, "too_large"))

    def http_problem(self, request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, HTTPException)
        return self.page(
            request,
            "problem",
            self.lang(request),
            exc.status_code,
            exc.headers,
            problem="not_found" if exc.status_code == 404 else "bad_form",
        )

    def server_problem(self, request: Request, exc: Exception) -> HTMLResponse:
        log.error("%s %s failed: %s", request.method, loggable(request.url.path), type(exc).__name__)
        return self.page(request, "problem", self.lang(request), 500, problem="server")
