"""The opt-out every media list email carries (mail/medialists.py): a page with a button, and RFC 8058 one-click.

Journalists are on the lists by the office's legitimate interest, not by signing up, so their only page here is
the way off; leaving also suppresses the address for the subscriptions.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from newsroom.mail import medialists
from newsroom.mail.addresses import masked
from newsroom.subscriptions import forms
from newsroom.subscriptions.problems import Problem

if TYPE_CHECKING:
    from newsroom.subscriptions.app import Service

log = logging.getLogger("newsroom.subscriptions.service")


class PressOptOut:
    def __init__(self, service: Service):
        self.service = service

    def routes(self) -> list[Route]:
        return [
            Route("/press-opt-out/{token}", self.page, methods=["GET"]),
            Route("/press-opt-out/{token}", self.opt_out, methods=["POST"]),
        ]

    async def journalist(self, request: Request) -> tuple[str, medialists.Journalist, str]:
        pages = self.service.pages
        token = forms.token(request, pages.lang(request))
        journalist = await self.service.db(medialists.by_token, token)
        if journalist is None:
            raise Problem(404, "invalid_link", pages.lang(request))
        return token, journalist, pages.lang(request, among=journalist.languages)

    async def page(self, request: Request) -> Response:
        _, journalist, lang = await self.journalist(request)
        return self.service.pages.page(request, "press_opt_out", lang, address=journalist.email)

    async def opt_out(self, request: Request) -> Response:
        """One-click from a mail program, or the page's button (which posts the same field): act at once."""
        token, journalist, lang = await self.journalist(request)
        form = await forms.read_form(request, lang)
        if form.get("List-Unsubscribe") != "One-Click":
            raise Problem(400, "bad_form", lang)
        if journalist.status == "active":
            await self.service.db(medialists.opt_out, token, self.service.clock())
            log.info("opted out of the media lists: %s", masked(journalist.email))
        return self.service.pages.page(request, "press_opted_out", lang)
