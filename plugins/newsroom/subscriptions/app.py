"""The subscription service (Starlette on uvicorn): sign-up with double opt-in, preferences and unsubscribe.

A static site cannot take a form post or an RFC 8058 one-click unsubscribe, so its forms post here. Every answer
to a sign-up is the same "check your email" page, so the form never tells whether an address is subscribed;
nothing that changes state happens on a GET. This module holds the routes and what each does; the checks of a
request are in forms, the pages in pages, the middleware in guard.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from newsroom.content.catalog import publisher_for
from newsroom.core.model import TYPES
from newsroom.mail import store, subscribers
from newsroom.mail.addresses import masked
from newsroom.mail.messages import environment
from newsroom.mail.subscribers import Preferences, SubscriberError
from newsroom.subscriptions import forms, optin, ratelimit, slowclients
from newsroom.subscriptions.config import ServiceConfig
from newsroom.subscriptions.consent import record_texts, text_kept
from newsroom.subscriptions.database import DatabaseThread
from newsroom.subscriptions.guard import Guard
from newsroom.subscriptions.pages import Pages, own_assets, stylesheet
from newsroom.subscriptions.pressoptout import PressOptOut
from newsroom.subscriptions.problems import Problem, ServiceError
from newsroom.theming import consent

log = logging.getLogger("newsroom.subscriptions.service")

PURGE_SECONDS = 3600


class Service:
    """The routes and what each does; `app` is the ASGI application."""

    def __init__(self, settings: dict, clock: Callable[[], datetime] | None = None):
        self.config = config = ServiceConfig.from_settings(settings)
        publisher = publisher_for(settings)
        if publisher is None:
            raise ServiceError(
                f"{Path(settings['PATH']) / 'newsroom.yaml'}: the publisher's card is missing or "
                "has problems; run 'newsroom check'"
            )
        env = environment(settings)
        env.auto_reload = False  # templates are read once: no file system check on every page
        self.clock = clock or (lambda: datetime.now(UTC))
        self.limiter = ratelimit.RateLimiter(config.limits)
        self.consent = consent.texts(env, config.langs, publisher)
        self.pages = Pages(env, config, publisher, self.consent)
        self.sender = optin.ConfirmationSender(
            optin.ConfirmationComposer(env, publisher.name, config.sender, config.site_url, publisher.name_forms),
            config.smtp,
            config.db,
            self.link,
            config.rate,
        )
        self.db = DatabaseThread(config.db)
        self.stylesheet = stylesheet(Path(settings["THEME"]) / "static" / "css" / "newsroom.css", publisher)
        self.assets = own_assets(Path(settings["THEME"]), publisher)
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
            *PressOptOut(self).routes(),
            Route("/static/newsroom.css", self.css, methods=["GET"]),
            *(Route(path, self.asset, methods=["GET"]) for path in self.assets),
            Route("/health", self.health, methods=["GET"]),
        ]
        app = Starlette(
            routes=routes,
            lifespan=self.lifespan,
            exception_handlers={
                Problem: self.pages.problem_page,
                HTTPException: self.pages.http_problem,
                Exception: self.pages.server_problem,
            },
        )
        self.app = Guard(app, self.pages.too_large)

    @asynccontextmanager
    async def lifespan(self, app: Starlette):
        await self.db(record_texts, self.consent, self.clock())
        self.sender.start()
        purging = asyncio.create_task(self._purge_regularly())
        try:
            yield
        finally:
            purging.cancel()
            await asyncio.get_running_loop().run_in_executor(None, self.sender.stop)
            await self.db.close()

    async def _purge_regularly(self) -> None:
        while True:
            gone = await self.db(optin.purge, self.clock(), self.limiter)
            if gone:
                log.info("purged %d sign-up(s) not confirmed within %d days", gone, subscribers.CONFIRM_DAYS)
            await asyncio.sleep(PURGE_SECONDS)

    def link(self, kind: str, token: str) -> str:
        return f"{self.config.base_url}/{kind}/{token}"

    # --- sign-up ----------------------------------------------------------------------------------------------

    async def subscribe_form(self, request: Request) -> Response:
        return self.pages.form_page(request, self.pages.lang(request), {}, {}, request.url.path)

    async def subscribe(self, request: Request) -> Response:
        pages = self.pages
        lang = pages.lang(request)
        form = await forms.read_form(request, lang)
        lang = pages.lang(request, str(form.get("lang")))
        forms.check_origin(request, lang, self.config.origins)
        if form.get("website"):
            log.info("sign-up ignored: the honeypot field was filled")
            return pages.page(request, "check_email", lang)
        prefs, errors, values = forms.preferences_from(form, self.config.langs)
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
        source = forms.source(form)
        if errors:
            values["consent"] = form.get("consent") == "yes" and "form" not in errors
            return pages.form_page(request, lang, values, errors, source, 400)
        version = str(form.get("consent_version") or "")
        if not consent.VERSION_PATTERN.fullmatch(version):
            version = self.consent[lang][0]
        source = f"web form {source}".strip()
        client = request.client.host if request.client else "unknown"
        outcome = await self.db(self._sign_up, address, lang, prefs, client, source, version, self.clock())
        if isinstance(outcome, timedelta):
            log.info("sign-up for %s refused: rate limit", masked(address))
            raise Problem(429, "rate_limited", lang, {"Retry-After": str(max(1, int(outcome.total_seconds()) + 1))})
        self.sender.wake()
        log.info("sign-up %s (%s)", masked(address), lang)
        return pages.page(request, "check_email", lang)

    def _sign_up(
        self,
        conn,
        address: str,
        lang: str,
        prefs: Preferences,
        client: str,
        source: str,
        version: str,
        now: datetime,
    ) -> None | timedelta:
        """Count the attempt, record the request and queue its email, all in one transaction."""
        with store.transaction(conn):
            wait = self.limiter.hit(conn, [ratelimit.key("client", client), ratelimit.key("email", address)], now)
            if wait is not None:
                return wait
            if not text_kept(conn, version):  # a consent record names only words we have: those shown here now
                version = self.consent[lang][0]
            token = subscribers.create_pending(conn, address, prefs, now, source, version)
            kind = "confirm"
            if token is None:
                kind, token = (
                    "preferences",
                    subscribers.issue_manage_token(conn, subscribers.find(conn, address).id, now),
                )
            optin.enqueue(conn, address, lang, kind, token, now)
        return None

    # --- confirmation -------------------------------------------------------------------------------------

    async def confirm_page(self, request: Request) -> Response:
        pages = self.pages
        token = forms.token(request, pages.lang(request))
        subscriber = await self.db(optin.pending, token, self.clock())
        if subscriber is None:
            raise Problem(404, "invalid_link", pages.lang(request))
        return pages.page(request, "confirm", pages.lang(request, among=subscriber.preferences.languages))

    async def confirm(self, request: Request) -> Response:
        pages = self.pages
        lang = pages.lang(request)
        token = forms.token(request, lang)
        forms.check_origin(request, lang, self.config.origins)
        confirmed = await self.db(_confirm, token, self.clock())
        if confirmed is None:
            raise Problem(404, "invalid_link", lang)
        subscriber, manage = confirmed
        log.info("confirmed %s", masked(subscriber.email))
        return pages.page(
            request,
            "confirmed",
            pages.lang(request, among=subscriber.preferences.languages),
            preferences_url=self.link("preferences", manage),
        )

    # --- preferences and leaving ----------------------------------------------------------------------------

    async def subscriber(self, request: Request) -> tuple[str, subscribers.Subscriber, str]:
        """The token in the path, its subscriber and the language to answer in (an unknown token: invalid link)."""
        token = forms.token(request, self.pages.lang(request))
        subscriber = await self.db(subscribers.by_token, token)
        if subscriber is None:
            raise Problem(404, "invalid_link", self.pages.lang(request))
        return token, subscriber, self.pages.lang(request, among=subscriber.preferences.languages)

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
            form = await forms.read_form(request, lang)
            forms.check_origin(request, lang, self.config.origins)
            wanted, errors, values = forms.preferences_from(form, self.config.langs)
            if wanted is None:
                status = 400
            else:
                await self.db(subscribers.update_preferences, token, wanted, self.clock())
                log.info("preferences changed for %s", masked(subscriber.email))
                saved = True
        return self.pages.page(
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
        return self.pages.page(
            request, "unsubscribe", lang, address=subscriber.email, preferences_url=self.link("preferences", token)
        )

    async def unsubscribe(self, request: Request) -> Response:
        token, subscriber, lang = await self.subscriber(request)
        await forms.read_form(request, lang)
        forms.check_origin(request, lang, self.config.origins)
        return await self._leave(request, token, subscriber, lang, "link")

    async def one_click(self, request: Request) -> Response:
        """RFC 8058: a mail program posts List-Unsubscribe=One-Click, from anywhere, without cookies: act at once."""
        token, subscriber, lang = await self.subscriber(request)
        form = await forms.read_form(request, lang)
        if form.get("List-Unsubscribe") != "One-Click":
            raise Problem(400, "bad_form", lang)
        return await self._leave(request, token, subscriber, lang, "one-click")

    async def _leave(
        self, request: Request, token: str, subscriber: subscribers.Subscriber, lang: str, source: str
    ) -> Response:
        if subscriber.status in ("confirmed", "pending"):
            await self.db(subscribers.unsubscribe, token, self.clock(), source)
            log.info("unsubscribed %s (%s)", masked(subscriber.email), source)
        return self.pages.page(request, "unsubscribed", lang)

    # --- the rest --------------------------------------------------------------------------------------------

    async def css(self, request: Request) -> Response:
        return Response(self.stylesheet, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})

    async def asset(self, request: Request) -> Response:
        body, media_type = self.assets[request.url.path]
        return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})


def _confirm(conn, token: str, now: datetime):
    subscriber = subscribers.confirm(conn, token, now)
    if subscriber is None:
        return None
    return subscriber, subscribers.issue_manage_token(conn, subscriber.id, now)


def create_app(settings: dict, clock: Callable[[], datetime] | None = None) -> ASGIApp:
    """The ASGI application for these settings (raises ServiceError for a setting it cannot run with)."""
    return Service(settings, clock).app


def server(
    app: ASGIApp,
    host: str,
    port: int,
    forwarded_allow_ips: str = "127.0.0.1",
    request_seconds: float = slowclients.REQUEST_SECONDS,
) -> uvicorn.Server:
    """A uvicorn server for the app. Behind a reverse proxy on this machine, the client's address is taken from
    its X-Forwarded-For header (only when the proxy is one of `forwarded_allow_ips`), so rate limits count
    readers, not the proxy. No access log: paths carry tokens; the service logs its own lines without them. A
    request must arrive whole within `request_seconds`; an idle keep-alive connection is closed after 5 s."""
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
            http=slowclients.with_deadline(request_seconds),
            timeout_keep_alive=5,
        )
    )
