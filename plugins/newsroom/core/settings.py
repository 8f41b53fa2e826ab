"""The NEWSROOM_ settings and their defaults, in one place (pelicanconf.py overrides any of them), and Settings: the
settings as one typed object, checked once when loaded."""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from newsroom.core.clock import build_now

# The languages a newsroom has unless its settings say otherwise; NEWSROOM_LANGUAGES is the only list that counts.
LANGUAGES = ("fi", "sv", "en")

DEFAULTS: dict[str, object] = {
    # Languages of the newsroom, the first is the default (DEFAULT_LANG should match it).
    "NEWSROOM_LANGUAGES": LANGUAGES,
    # The build clock: None means now; '2026-03-01T09:00+02:00' previews another moment.
    "NEWSROOM_NOW": None,
    # A preview shows drafts and embargoed releases with a banner, and is never deployed.
    "NEWSROOM_PREVIEW": False,
    # Where publish keeps its state (last published manifest, staging build); never inside the output.
    "NEWSROOM_STATE_DIR": "var",
    # Where `newsroom publish` deploys: a folder (kept as a symlink, swapped atomically) or rsync://host/path.
    "NEWSROOM_DEPLOY": "var/site",
    # How many other releases "more from the publisher" lists.
    "NEWSROOM_MORE_COUNT": 5,
    # Where image derivatives are kept between builds (content-hashed; safe to delete, never inside the output).
    "NEWSROOM_IMAGE_CACHE": "cache/images",
    # The original image file as downloaded: 'stripped' (GPS, camera serial and other metadata removed,
    # credit added, pixels untouched) or 'as-is' (the file exactly as in content/images).
    "NEWSROOM_IMAGE_ORIGINAL": "stripped",
    # The subscriber and outbox database (SQLite); None means newsroom.sqlite3 in NEWSROOM_STATE_DIR.
    "NEWSROOM_DB": None,
    # The mail server: smtp://user:pass@host:587 (STARTTLS), smtps://host:465, smtp://127.0.0.1:1025 (local sink).
    "NEWSROOM_SMTP_URL": "smtp://127.0.0.1:1025",
    # At most this many emails a second (0: as fast as the mail server takes them).
    "NEWSROOM_SMTP_RATE": 0,
    # The sender of release emails; the display name is the publisher's name.
    "NEWSROOM_MAIL_FROM": "newsroom@localhost",
    # Public address of the subscription service: forms post to {url}/subscribe, emails link to {url}/preferences/...;
    # publishconf.py: NEWSROOM_SITEURL + /subscriptions, and a public build refuses a loopback, relative or plain-HTTP one.
    "NEWSROOM_SUBSCRIBE_URL": "http://127.0.0.1:8001",
    # Sign-ups the service takes per client address and per email address ('' for none).
    "NEWSROOM_SUBSCRIBE_LIMITS": "4/minute, 40/hour",
    # Each newly public release version is also POSTed here as signed JSON (secret: NEWSROOM_WEBHOOK_SECRET).
    "NEWSROOM_PUBLISH_WEBHOOK": None,
    # How many of the newest releases each RSS/Atom feed holds.
    "NEWSROOM_FEED_MAX_ITEMS": 50,
    # The search index is written in shards of this many release pages (Pagefind holds a shard in memory, about
    # 0.1 MB a page); the search page searches them all.
    "NEWSROOM_SEARCH_SHARD_SIZE": 2000,
    # Processes that read and render the release pages: 0 is one per core, 1 does it all in the build's process.
    "NEWSROOM_PROCESSES": 0,
    # Feeds need absolute addresses: used instead of SITEURL while SITEURL is empty (`make html`, `make serve`).
    "NEWSROOM_FEED_SITEURL": "http://127.0.0.1:8000",
    # The resident publisher (`newsroom publisher run`) builds the site as it must look at an embargo lift this many
    # seconds ahead, so the lift itself is one rename.
    "NEWSROOM_PREBUILD_AHEAD": 120,
    # The publisher runs `git pull --ff-only` in the content folder every this many seconds (0: never).
    "NEWSROOM_GIT_PULL_INTERVAL": 0,
    # Media lists: the address of each journalist's own embargoed preview link in advance emails, {token} (and
    # {release}, {lang}) filled in; '' is the desk's preview origin, NEWSROOM_DESK_PREVIEW_URL/t/{token}/.
    "NEWSROOM_PRESS_PREVIEW_URL": "",
    # The desk's public address (`newsroom desk serve`): https:// makes its cookies Secure; plain http is only
    # accepted on loopback.
    "NEWSROOM_DESK_URL": "http://127.0.0.1:8002",
    # The separate origin the desk serves its previews from (another port or host than the desk's).
    "NEWSROOM_DESK_PREVIEW_URL": "http://127.0.0.1:8003",
    # The desk's single sign-on: the OpenID Connect provider's issuer address (None: local accounts only).
    "NEWSROOM_DESK_OIDC_ISSUER": None,
    # The desk's client id at the sign-on provider.
    "NEWSROOM_DESK_OIDC_CLIENT_ID": "",
    # The desk's client secret at the sign-on provider (give it in the environment).
    "NEWSROOM_DESK_OIDC_CLIENT_SECRET": "",
    # The sign-on claim whose values give a desk role.
    "NEWSROOM_DESK_OIDC_ROLE_CLAIM": "groups",
    # Which values of that claim give which role ('value=role, ...'); a user with none is not let in.
    "NEWSROOM_DESK_OIDC_ROLES": "desk-admins=admin, desk-approvers=approver, desk-writers=writer",
    # Review before release (docs/review.md): "required" holds a release nobody approved at its time; "optional"
    # records reviews and holds nothing (the default: switching it on would hold every release not yet reviewed);
    # "off" takes review out of the desk.
    "NEWSROOM_APPROVAL": "optional",
    # How many days a review link works.
    "NEWSROOM_REVIEW_DAYS": 7,
    # How many hours a journalist's embargoed preview link keeps working after the embargo lifts.
    "NEWSROOM_PRESS_GRACE_HOURS": 48,
    # How often (seconds) the publisher looks again whether a held release has been approved.
    "NEWSROOM_APPROVAL_POLL": 30,
    # Set only for the builds behind shared links (desk/snapshot.py): the banner their pages carry.
    "NEWSROOM_SHARED": None,
    # The largest attachment a release may have, in megabytes (10^6 bytes): `newsroom check`, the build and the
    # desk's upload refuse larger files.
    "NEWSROOM_ATTACHMENT_MAX_MB": 25,
}


# Read from the environment first: they differ per machine, and secrets never go in a settings file.
FROM_ENVIRONMENT = (
    "NEWSROOM_DEPLOY",
    "NEWSROOM_STATE_DIR",
    "NEWSROOM_DB",
    "NEWSROOM_SMTP_URL",
    "NEWSROOM_SMTP_RATE",
    "NEWSROOM_MAIL_FROM",
    "NEWSROOM_SUBSCRIBE_URL",
    "NEWSROOM_PUBLISH_WEBHOOK",
    "NEWSROOM_IMAGE_CACHE",
    "NEWSROOM_DESK_URL",
    "NEWSROOM_DESK_PREVIEW_URL",
    "NEWSROOM_DESK_OIDC_ISSUER",
    "NEWSROOM_DESK_OIDC_CLIENT_ID",
    "NEWSROOM_DESK_OIDC_CLIENT_SECRET",
)


# Pelican's default SLUG_REGEX_SUBSTITUTIONS (pelican.settings.DEFAULT_CONFIG, which core may not import).
PELICAN_SLUG_SUBSTITUTIONS: tuple[tuple[str, str], ...] = (
    (r"[^\w\s-]", ""),  # remove non-alphabetical/whitespace/'-' chars
    (r"(?u)\A\s*", ""),  # strip leading whitespace
    (r"(?u)\s*\Z", ""),  # strip trailing whitespace
    (r"[-\s]+", "-"),  # reduce multiple whitespace or '-' to single '-'
)
# The newsroom's: Pelican's, after a dot, comma or colon between digits becomes a hyphen, so that a date or a time
# in a title keeps its separator ("2.3." gives "2-3", not "23"; "klo 17.30" gives "17-30"). Used by Pelican (set
# as SLUG_REGEX_SUBSTITUTIONS unless the settings file sets its own) and where no settings are at hand.
SLUG_SUBSTITUTIONS: tuple[tuple[str, str], ...] = ((r"(?<=\d)[.,:](?=\d)", "-"), *PELICAN_SLUG_SUBSTITUTIONS)


class SettingsError(ValueError):
    """A NEWSROOM_ setting has a value the newsroom cannot use; the message names it and says what to write."""


# Settings that must be whole numbers, and the smallest each may be.
WHOLE_NUMBERS = {
    "NEWSROOM_MORE_COUNT": 0,
    "NEWSROOM_FEED_MAX_ITEMS": 1,
    "NEWSROOM_SEARCH_SHARD_SIZE": 1,
    "NEWSROOM_PROCESSES": 0,
    "NEWSROOM_PREBUILD_AHEAD": 0,
    "NEWSROOM_GIT_PULL_INTERVAL": 0,
    "NEWSROOM_ATTACHMENT_MAX_MB": 1,
}


def local_deploy(target: str) -> bool:
    """Whether a deploy target (NEWSROOM_DEPLOY) is a folder on this machine rather than an address (rsync://)."""
    return "://" not in target


def apply_defaults(settings: dict, base: Path | None = None) -> None:
    """Fill in defaults and check the numbers; relative state paths are taken from the settings file's folder, like
    Pelican's PATH."""
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    for key, least in WHOLE_NUMBERS.items():
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise SettingsError(
                f"{key} is {value!r} in the settings file; write a whole number of at least {least}, "
                f"such as {DEFAULTS[key]}"
            )
    for key in FROM_ENVIRONMENT:
        if os.environ.get(key):
            settings[key] = os.environ[key]
    if base is not None:
        settings["NEWSROOM_STATE_DIR"] = str(base / settings["NEWSROOM_STATE_DIR"])
        if local_deploy(settings["NEWSROOM_DEPLOY"]):
            settings["NEWSROOM_DEPLOY"] = str(base / settings["NEWSROOM_DEPLOY"])
        settings["NEWSROOM_IMAGE_CACHE"] = str(base / settings["NEWSROOM_IMAGE_CACHE"])
        if settings["NEWSROOM_DB"]:
            settings["NEWSROOM_DB"] = str(base / settings["NEWSROOM_DB"])


def check_public_subscribe_url(settings: dict) -> None:
    """A public build's forms post to NEWSROOM_SUBSCRIBE_URL: it must be a full address readers can reach, and
    HTTPS when the site is, or every form would post to the build machine or in the clear. `newsroom build` and
    `newsroom publish` check it; a preview, or a build without an absolute SITEURL, is not public."""
    public = not settings.get("NEWSROOM_PREVIEW") and str(settings.get("SITEURL", "")).startswith(
        ("http://", "https://")
    )
    address = str(settings.get("NEWSROOM_SUBSCRIBE_URL") or "")
    if not public or not address:
        return  # not for readers, or no subscription service (the pages have no forms)
    parts = urlsplit(address)
    fix = (
        "set NEWSROOM_SUBSCRIBE_URL in the environment (beside NEWSROOM_SITEURL) to the service's public "
        "address, such as https://newsroom.example.org/subscriptions"
    )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"NEWSROOM_SUBSCRIBE_URL '{address}' is not a full http(s):// address; {fix}")
    if _is_loopback(parts.hostname):
        raise SettingsError(
            f"NEWSROOM_SUBSCRIBE_URL '{address}' is this machine's own address, which no reader can reach; {fix}"
        )
    if str(settings.get("SITEURL", "")).startswith("https://") and parts.scheme != "https":
        raise SettingsError(
            f"NEWSROOM_SUBSCRIBE_URL '{address}' is plain HTTP on an HTTPS site: browsers warn about such forms "
            f"and the addresses would travel unencrypted; {fix}"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


# A language code as it appears in addresses (/fi/, /pt-br/): lowercase letters, optionally a region or script.
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")


class Settings(dict):
    """The settings as one typed, checked object, fixed when loaded: the time zone, the build's moment, the languages
    and the paths. A dict too, so Pelican (and `settings["KEY"]`) read it as before."""

    tz: ZoneInfo  # TIMEZONE
    now: datetime  # NEWSROOM_NOW (or --now), else the real clock when loaded: aware, one for the whole run
    pinned: bool = False  # whether NEWSROOM_NOW (or --now) set the moment, rather than the real clock
    langs: tuple[str, ...]  # NEWSROOM_LANGUAGES, the default first
    preview: bool  # NEWSROOM_PREVIEW
    content: Path  # PATH
    output: Path  # OUTPUT_PATH
    state_dir: Path  # NEWSROOM_STATE_DIR
    slug_substitutions: tuple[tuple[str, str], ...]  # SLUG_REGEX_SUBSTITUTIONS

    @classmethod
    def load(cls, values: dict, base: Path | None = None) -> Settings:
        """Defaults filled in and every value checked once (SettingsError names a wrong one; DateError a wrong time);
        NEWSROOM_NOW becomes the one aware moment the whole run acts at."""
        settings = cls(values)
        apply_defaults(settings, base)
        settings.pinned = bool(settings["NEWSROOM_NOW"] or os.environ.get("NEWSROOM_NOW"))
        settings._check()
        return settings

    @classmethod
    def of(cls, settings: dict) -> Settings:
        """`settings` itself when already loaded, else loaded from it (callers that build a dict by hand)."""
        return settings if isinstance(settings, Settings) else cls.load(settings)

    def replace(self, **values: Any) -> Settings:
        """A copy with these values changed, keeping the moment and the checks (no second reading of the clock)."""
        copy = Settings(self)
        copy.update(values)
        copy.pinned = self.pinned
        copy._check()
        return copy

    def follow_the_clock(self) -> None:
        """A new moment from the real clock, unless the time is pinned: for `pelican --autoreload`, which builds
        again and again from the same settings (a newsroom command loads them anew for every build)."""
        if not self.pinned:
            self.now = datetime.now(self.tz)
            self["NEWSROOM_NOW"] = self.now

    def _check(self) -> None:
        try:
            self.tz = ZoneInfo(str(self.get("TIMEZONE") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"TIMEZONE is {self.get('TIMEZONE')!r} in the settings file; write a time zone name such as "
                "'Europe/Helsinki'"
            ) from None
        langs = self["NEWSROOM_LANGUAGES"]
        if (
            isinstance(langs, str)
            or not langs
            or not all(isinstance(code, str) and _LANGUAGE_CODE.fullmatch(code) for code in langs)
            or len(set(langs)) != len(langs)
        ):
            raise SettingsError(
                f"NEWSROOM_LANGUAGES is {langs!r} in the settings file; write the language codes, the default first, "
                "such as ('fi', 'sv', 'en')"
            )
        self.langs = tuple(langs)
        self["NEWSROOM_LANGUAGES"] = self.langs
        self.now = build_now(self["NEWSROOM_NOW"], self.tz)
        self["NEWSROOM_NOW"] = self.now
        self.preview = bool(self["NEWSROOM_PREVIEW"])
        self.content = Path(self.get("PATH") or "content")
        self.output = Path(self.get("OUTPUT_PATH") or "output")
        self.state_dir = Path(self["NEWSROOM_STATE_DIR"])
        own = tuple((str(find), str(put)) for find, put in self.get("SLUG_REGEX_SUBSTITUTIONS") or ())
        self.slug_substitutions = own if own and own != PELICAN_SLUG_SUBSTITUTIONS else SLUG_SUBSTITUTIONS
        self["SLUG_REGEX_SUBSTITUTIONS"] = list(self.slug_substitutions)
