"""The subscription service (Starlette on uvicorn): sign-up with double opt-in, preferences and unsubscribe.

A static site cannot take a form post or an RFC 8058 one-click unsubscribe, so its forms post here. Pages come
from the theme's templates in the reader's language. Every answer to a sign-up is the same "check your email"
page, so the form never tells whether an address is subscribed; nothing that changes state happens on a GET.
Database work runs on one thread with one connection (SQLite takes one writer at a time anyway), so requests
never wait on each other's locks.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newsroom.content.catalog import publisher_for
from newsroom.core import urls
from newsroom.core.model import TYPES
from newsroom.mail import store, subscribers
from newsroom.mail.mailer import MailerConfigError, SmtpConfig, mail_settings
from newsroom.mail.messages import environment
from newsroom.mail.subscribers import FREQUENCIES, Preferences, SubscriberError, masked, split_list
from newsroom.site import consent
from newsroom.subscriptions import optin, ratelimit

log = logging.getLogger("newsroom.subscriptions.service")

MAX_BODY = 16 * 1024
MAX_FIELD = 1000
MAX_KEYWORDS, MAX_KEYWORD_LENGTH = 20, 60
PURGE_SECONDS = 3600
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")
_SOURCE = re.compile(r"/[A-Za-z0-9/_.~%-]{0,300}")
# Control characters and every line break a mail header or a log line could be split at.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_LONG_SEGMENT = re.compile(r"/[A-Za-z0-9_-]{20,}")


class ServiceError(Exception):
    """A setting the service cannot run with; the message says which and what to write."""


class Problem(Exception):
    """A request the service answers with a page explaining what went wrong (never a traceback)."""

    def __init__(self, status: int, code: str, lang: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(code)
        self.status, self.code, self.lang, self.headers = status, code, lang, headers or {}


def origin_of(url: str) -> str:
    """scheme://host[:port] as browsers send it in the Origin header (default ports left out)."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


@dataclass(frozen=True)
class ServiceConfig:
    """What the service needs from the settings, checked before it starts."""

    db: Path
    base_url: str
    site_url: str
    langs: tuple[str, ...]
    origins: frozenset[str]
    limits: tuple[ratelimit.Limit, ...]
    smtp: SmtpConfig
    sender: str
    rate: float

    @classmethod
    def from_settings(cls, settings: dict) -> ServiceConfig:
        base_url = str(settings.get("NEWSROOM_SUBSCRIBE_URL") or "").rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ServiceError(
                "NEWSROOM_SUBSCRIBE_URL must be the service's public address, such as "
                "https://newsroom.example.org/subscriptions"
            )
        site_url = urls.public_base(settings)
        try:
            smtp, sender, rate = mail_settings(settings)
            limits = ratelimit.parse(settings["NEWSROOM_SUBSCRIBE_LIMITS"])
        except (MailerConfigError, ratelimit.LimitSettingError) as exc:
            raise ServiceError(str(exc)) from None
        return cls(
            store.db_path(settings),
            base_url,
            site_url,
            tuple(settings["NEWSROOM_LANGUAGES"]),
            frozenset(filter(None, (origin_of(base_url), origin_of(site_url)))),
            limits,
            smtp,
            sender,
            rate,
        )


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


class Guard:
    """ASGI middleware: a body size limit, security headers on every answer, and a log line with no token in it."""

    def __init__(self, app: ASGIApp, service: Service, max_body: int = MAX_BODY):
        self.app, self.service, self.max_body = app, service, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def secured(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = list(message.get("headers", [])) + self.service.security_headers
            await send(message)

        body = await self._body(scope, receive)
        if body is None:
            request = Request(scope)
            response = self.service.problem_page(request, Problem(413, "too_large"))
            await response(scope, receive, secured)
        else:
            await self.app(scope, _replay(body, receive), secured)
        log.info("%s %s %s", scope["method"], _LONG_SEGMENT.sub("/…", scope["path"])[:200], status)

    async def _body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole request body, or None when it is (or says it will be) larger than the limit."""
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > self.max_body:
            return None
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body += message.get("body", b"")
            if len(body) > self.max_body:
                return None
            more = message.get("more_body", False)
        return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever the client does next (such as disconnecting)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


class Service:
    """The pages and actions; `app` is the ASGI application."""

    def __init__(self, settings: dict, clock: Callable[[], datetime] | None = None):
        self.config = config = ServiceConfig.from_settings(settings)
        publisher = publisher_for(settings)
        if publisher is None:
            raise ServiceError(
                f"{Path(settings['PATH']) / 'newsroom.yaml'}: the publisher's card is missing or "
                "has problems; run 'newsroom check'"
            )
        self.publisher = publisher
        self.env = environment(settings)
        self.env.auto_reload = False  # templates are read once: no file system check on every page
        self.clock = clock or (lambda: datetime.now(UTC))
        self.limiter = ratelimit.RateLimiter(config.limits)
        self.consent = consent.texts(self.env, config.langs, self.publisher)
        self.sender = optin.ConfirmationSender(
            optin.ConfirmationComposer(
                self.env, self.publisher.name, config.sender, config.site_url, self.publisher.name_forms
            ),
            config.smtp,
            config.rate,
        )
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsroom-db")
        self._conn = None
        self.stylesheet = self._stylesheet(Path(settings["THEME"]) / "static" / "css" / "newsroom.css")
        self.security_headers = [
            (name.encode(), value.encode())
            for name, value in (
                (
                    "Content-Security-Policy",
                    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                    "frame-ancestors 'none'; base-uri 'none'",
                ),
                ("X-Content-Type-Options", "nosniff"),
                ("X-Frame-Options", "DENY"),
                # Never a path (tokens are in paths), but still an Origin header on our own forms' posts.
                ("Referrer-Policy", "strict-origin"),
                ("Cross-Origin-Resource-Policy", "same-origin"),
                ("Permissions-Policy", "interest-cohort=()"),
            )
        ]
        routes = [
            Route("/", self.subscribe_form, methods=["GET"]),
            Route("/subscribe", self.subscribe_form, methods=["GET"]),
            Route("/subscribe", self.subscribe, methods=["POST"]),
            Route("/confirm/{token}", self.confirm_page, methods=["GET"]),
            Route("/confirm/{token}", self.confirm, methods=["POST"]),
            Route("/preferences/{token}", self.preferences, methods=["GET", "POST"]),
            Route("/unsubscribe/{token}", self.unsubscribe_page, methods=["GET"]),
            Route("/unsubscribe/{token}", self.unsubscribe, methods=["POST"]),
            Route("/one-click/{token}", self.unsubscribe_page, methods=["GET"]),
            Route("/one-click/{token}", self.one_click, methods=["POST"]),
            Route("/static/newsroom.css", self.css, methods=["GET"]),
            Route("/health", self.health, methods=["GET"]),
        ]
        app = Starlette(
            routes=routes,
            lifespan=self.lifespan,
            exception_handlers={
                Problem: self.problem_page,
                HTTPException: self.http_problem,
                Exception: self.server_problem,
            },
        )
        self.app = Guard(app, self)

    # --- plumbing -----------------------------------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: Starlette):
        await self.db(consent.record_texts, self.consent, self.clock())
        self.sender.start()
        purging = asyncio.create_task(self._purge_regularly())
        try:
            yield
        finally:
            purging.cancel()
            await asyncio.get_running_loop().run_in_executor(None, self.sender.stop)
            await self.db(lambda conn: conn.close())
            self.executor.shutdown()

    async def _purge_regularly(self) -> None:
        while True:
            gone = await self.db(optin.purge, self.clock(), self.limiter)
            if gone:
                log.info("purged %d sign-up(s) not confirmed within %d days", gone, subscribers.CONFIRM_DAYS)
            await asyncio.sleep(PURGE_SECONDS)

    async def db(self, action: Callable[..., Any], *args: Any) -> Any:
        """Run `action(conn, *args)` on the database thread."""
        return await asyncio.get_running_loop().run_in_executor(
            self.executor, functools.partial(self._on_db, action, *args)
        )

    def _on_db(self, action: Callable[..., Any], *args: Any) -> Any:
        if self._conn is None:
            self._conn = store.connect(self.config.db)
        return action(self._conn, *args)

    def _stylesheet(self, path: Path) -> bytes:
        """The site's stylesheet with the publisher's colour, served from here: the pages load nothing from elsewhere."""
        return path.read_bytes() + f"\n:root {{ --brand: {self.publisher.brand_color}; }}\n".encode()

    def lang(self, request: Request, *wanted: str | None, among: tuple[str, ...] = ()) -> str:
        """?lang= first, then a language the form named, then the browser's choice among `among` (or all)."""
        langs = self.config.langs
        for candidate in (request.query_params.get("lang"), *wanted):
            if candidate in langs:
                return candidate
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

    def problem_page(self, request: Request, exc: Exception) -> HTMLResponse:
        assert isinstance(exc, Problem)
        return self.page(request, "problem", exc.lang or self.lang(request), exc.status, exc.headers, problem=exc.code)

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
        log.error("%s %s failed: %s", request.method, _LONG_SEGMENT.sub("/…", request.url.path), type(exc).__name__)
        return self.page(request, "problem", self.lang(request), 500, problem="server")

    async def form(self, request: Request, lang: str | None = None) -> FormData:
        """The posted form: only form encodings, no files, no control characters where a value is echoed."""
        kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if kind not in FORM_TYPES:
            raise Problem(415, "bad_form", lang)
        try:
            form = await request.form(max_files=0, max_fields=64, max_part_size=MAX_BODY)
        except Exception:  # whatever the parser chokes on is a malformed post, answered as one
            raise Problem(400, "bad_form", lang) from None
        if any(not isinstance(value, str) or len(value) > MAX_FIELD for _, value in form.multi_items()):
            raise Problem(400, "bad_form", lang)
        return form

    def check_origin(self, request: Request, lang: str) -> None:
        """A state-changing post must come from our site or our own pages (CSRF); clients that send neither
        Origin nor Referer are not browsers acting for someone else."""
        origin, referer = request.headers.get("origin"), request.headers.get("referer")
        if origin is None and not referer:
            return
        if (origin if origin is not None else origin_of(referer)) not in self.config.origins:
            raise Problem(403, "origin", lang)

    @staticmethod
    def token(request: Request, lang: str | None = None) -> str:
        token = request.path_params["token"]
        if not _TOKEN.fullmatch(token):
            raise Problem(404, "invalid_link", lang)
        return token

    def link(self, kind: str, token: str) -> str:
        return f"{self.config.base_url}/{kind}/{token}"

    # --- preferences as posted -----------------------------------------------------------------------------

    def preferences_from(self, form: FormData) -> tuple[Preferences | None, dict[str, str], dict[str, Any]]:
        """Preferences from a form, or the errors (field -> message code) and the values to show again."""
        languages = tuple(dict.fromkeys(form.getlist("languages")))
        types = tuple(dict.fromkeys(form.getlist("types")))
        keywords_text = str(form.get("keywords") or "")
        keywords = tuple(dict.fromkeys(split_list(keywords_text)))
        frequency = str(form.get("frequency") or "immediate")
        values = {"languages": list(languages), "types": list(types), "keywords": keywords_text, "frequency": frequency}
        errors = {}
        if any(_CONTROL.search(str(value)) for _, value in form.multi_items()):
            errors["form"] = "characters"
            values = {key: [] if isinstance(value, list) else "" for key, value in values.items()}
        if not languages:
            errors["languages"] = "languages_missing"
        elif any(code not in self.config.langs for code in languages):
            errors["languages"] = "choice_invalid"
        if any(kind not in TYPES for kind in types):
            errors["types"] = "choice_invalid"
        if len(keywords) > MAX_KEYWORDS or any(len(word) > MAX_KEYWORD_LENGTH for word in keywords):
            errors["keywords"] = "keywords_invalid"
        if frequency not in FREQUENCIES:
            errors["frequency"] = "choice_invalid"
        if errors:
            return None, errors, values
        return Preferences(languages, types, keywords, frequency), {}, values

    # --- sign-up ----------------------------------------------------------------------------------------------

    async def subscribe_form(self, request: Request) -> Response:
        return self.form_page(request, self.lang(request), {}, {}, request.url.path)

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

    async def subscribe(self, request: Request) -> Response:
        lang = self.lang(request)
        form = await self.form(request, lang)
        lang = self.lang(request, str(form.get("lang")))
        self.check_origin(request, lang)
        if form.get("website"):
            log.info("sign-up ignored: the honeypot field was filled")
            return self.page(request, "check_email", lang)
        prefs, errors, values = self.preferences_from(form)
        address = ""
        try:
            if "form" not in errors:
                address = subscribers.normalize_address(str(form.get("email") or ""))
                values["email"] = str(form.get("email"))
        except SubscriberError:
            errors["email"] = "email_invalid"
            values["email"] = str(form.get("email") or "")
        if form.get("consent") != "yes":
            errors["consent"] = "consent_missing"
        source = str(form.get("source") or "")
        source = source if _SOURCE.fullmatch(source) else ""
        if errors:
            values["consent"] = form.get("consent") == "yes" and "form" not in errors
            return self.form_page(request, lang, values, errors, source, 400)
        version = str(form.get("consent_version") or "")
        if not consent.VERSION_PATTERN.fullmatch(version):
            version = self.consent[lang][0]
        source = f"web form {source}".strip()
        client = request.client.host if request.client else "unknown"
        outcome = await self.db(self._sign_up, address, prefs, client, source, version, self.clock())
        if isinstance(outcome, timedelta):
            log.info("sign-up for %s refused: rate limit", masked(address))
            raise Problem(429, "rate_limited", lang, {"Retry-After": str(max(1, int(outcome.total_seconds()) + 1))})
        kind, token = outcome
        already = kind == "already"
        self.sender.submit(
            optin.Confirmation(address, lang, self.link("preferences" if already else "confirm", token), already)
        )
        log.info("sign-up %s (%s)", masked(address), lang)
        return self.page(request, "check_email", lang)

    def _sign_up(
        self, conn, address: str, prefs: Preferences, client: str, source: str, version: str, now: datetime
    ) -> tuple[str, str] | timedelta:
        wait = self.limiter.hit(conn, [ratelimit.key("client", client), ratelimit.key("email", address)], now)
        if wait is not None:
            return wait
        token = subscribers.create_pending(conn, address, prefs, now, source, version)
        if token is not None:
            return "confirm", token
        return "already", subscribers.issue_manage_token(conn, subscribers.find(conn, address).id, now)

    # --- confirmation -------------------------------------------------------------------------------------

    async def confirm_page(self, request: Request) -> Response:
        token = self.token(request, self.lang(request))
        subscriber = await self.db(optin.pending, token, self.clock())
        if subscriber is None:
            raise Problem(404, "invalid_link", self.lang(request))
        return self.page(request, "confirm", self.lang(request, among=subscriber.preferences.languages))

    async def confirm(self, request: Request) -> Response:
        lang = self.lang(request)
        token = self.token(request, lang)
        self.check_origin(request, lang)
        confirmed = await self.db(self._confirm, token, self.clock())
        if confirmed is None:
            raise Problem(404, "invalid_link", lang)
        subscriber, manage = confirmed
        log.info("confirmed %s", masked(subscriber.email))
        return self.page(
            request,
            "confirmed",
            self.lang(request, among=subscriber.preferences.languages),
            preferences_url=self.link("preferences", manage),
        )

    @staticmethod
    def _confirm(conn, token: str, now: datetime):
        subscriber = subscribers.confirm(conn, token, now)
        if subscriber is None:
            return None
        return subscriber, subscribers.issue_manage_token(conn, subscriber.id, now)

    # --- preferences and leaving ----------------------------------------------------------------------------

    async def subscriber(self, request: Request) -> tuple[str, subscribers.Subscriber, str]:
        token = self.token(request, self.lang(request))
        subscriber = await self.db(subscribers.by_token, token)
        if subscriber is None:
            raise Problem(404, "invalid_link", self.lang(request))
        return token, subscriber, self.lang(request, among=subscriber.preferences.languages)

    async def preferences(self, request: Request) -> Response:
        token, subscriber, lang = await self.subscriber(request)
        if subscriber.status != "confirmed":
            raise Problem(200, "not_subscribed", lang)
        prefs = subscriber.preferences
        values = {
            "languages": list(prefs.languages),
            "types": list(prefs.types),
            "keywords": ", ".join(prefs.keywords),
            "frequency": prefs.frequency,
        }
        saved, errors, status = False, {}, 200
        if request.method == "POST":
            form = await self.form(request, lang)
            self.check_origin(request, lang)
            wanted, errors, values = self.preferences_from(form)
            if wanted is None:
                status = 400
            else:
                await self.db(subscribers.update_preferences, token, wanted, self.clock())
                log.info("preferences changed for %s", masked(subscriber.email))
                saved = True
        return self.page(
            request,
            "preferences",
            lang,
            status,
            values=values,
            errors=errors,
            saved=saved,
            types=TYPES,
            address=subscriber.email,
            unsubscribe_url=self.link("unsubscribe", token),
        )

    async def unsubscribe_page(self, request: Request) -> Response:
        token, subscriber, lang = await self.subscriber(request)
        return self.page(
            request, "unsubscribe", lang, address=subscriber.email, preferences_url=self.link("preferences", token)
        )

    async def unsubscribe(self, request: Request) -> Response:
        token, subscriber, lang = await self.subscriber(request)
        await self.form(request, lang)
        self.check_origin(request, lang)
        return await self._leave(request, token, subscriber, lang, "link")

    async def one_click(self, request: Request) -> Response:
        """RFC 8058: a mail program posts List-Unsubscribe=One-Click, from anywhere, without cookies: act at once."""
        token, subscriber, lang = await self.subscriber(request)
        form = await self.form(request, lang)
        if form.get("List-Unsubscribe") != "One-Click":
            raise Problem(400, "bad_form", lang)
        return await self._leave(request, token, subscriber, lang, "one-click")

    async def _leave(
        self, request: Request, token: str, subscriber: subscribers.Subscriber, lang: str, source: str
    ) -> Response:
        if subscriber.status in ("confirmed", "pending"):
            await self.db(subscribers.unsubscribe, token, self.clock(), source)
            log.info("unsubscribed %s (%s)", masked(subscriber.email), source)
        return self.page(request, "unsubscribed", lang)

    # --- the rest --------------------------------------------------------------------------------------------

    async def css(self, request: Request) -> Response:
        return Response(self.stylesheet, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})


def create_app(settings: dict, clock: Callable[[], datetime] | None = None) -> ASGIApp:
    """The ASGI application for these settings (raises ServiceError for a setting it cannot run with)."""
    return Service(settings, clock).app


def server(app: ASGIApp, host: str, port: int, forwarded_allow_ips: str = "127.0.0.1") -> uvicorn.Server:
    """A uvicorn server for the app. Behind a reverse proxy on this machine, the client's address is taken from
    its X-Forwarded-For header (only when the proxy is one of `forwarded_allow_ips`), so rate limits count
    readers, not the proxy. No access log: paths carry tokens; the service logs its own lines without them."""
    return uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            access_log=False,
            server_header=False,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
            log_level="info",
            lifespan="on",
        )
    )
