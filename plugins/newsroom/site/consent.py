"""The site's subscribe and privacy notice pages, with the version of the consent text each form shows."""

from __future__ import annotations

from pelican.generators import Generator

from newsroom.core import urls
from newsroom.core.model import TYPES
from newsroom.site.context import write_page
from newsroom.theming.consent import texts

VERSIONS_KEY = "consent_versions"


class SignupPagesGenerator(Generator):
    """Writes /{lang}/subscribe/ and /{lang}/privacy/ when there is a subscription service to post to."""

    def generate_context(self) -> None:
        langs = tuple(self.settings["NEWSROOM_LANGUAGES"])
        shown = texts(self.env, langs, self.context["publisher"])
        self.context[VERSIONS_KEY] = {lang: ver for lang, (ver, _) in shown.items()}

    def generate_output(self, writer) -> None:
        if not self.settings["NEWSROOM_SUBSCRIBE_URL"]:
            return
        for lang in self.settings["NEWSROOM_LANGUAGES"]:
            write_page(
                self,
                writer,
                urls.subscribe(lang),
                "subscribe",
                lang,
                alternate_url=urls.subscribe,
                subscription_types=TYPES,
            )
            write_page(self, writer, urls.privacy(lang), "privacy", lang, alternate_url=urls.privacy)
