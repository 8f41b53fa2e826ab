"""Where each generated page lives: one place, so templates, feeds and tests agree on addresses."""

from __future__ import annotations

from functools import lru_cache

from newsroom.core.slugs import slugify


def front(lang: str) -> str:
    return f"{lang}/"


def release_type(lang: str, kind: str) -> str:
    return f"{lang}/type/{kind}/"


def slug(text: str) -> str:
    """ASCII lowercase words joined by hyphens, as Pelican makes slugs: 'Päätöksenteko' -> 'paatoksenteko'."""
    return slugify(text)


@lru_cache(maxsize=4096)  # every listing, feed and release page asks for the same few keywords
def keyword_slug(keyword: str) -> str:
    """'' for a keyword of symbols alone, which `newsroom check` refuses."""
    return slug(keyword)


def keyword(lang: str, word: str) -> str:
    return f"{lang}/keyword/{keyword_slug(word)}/"


def contacts(lang: str) -> str:
    return f"{lang}/contacts/"


def about(lang: str) -> str:
    return f"{lang}/about/"


def feeds(lang: str) -> str:
    """The page that lists every feed of a language."""
    return f"{lang}/feeds/"


def feed(lang: str, fmt: str) -> str:
    """The whole newsroom in one language; `fmt` is 'rss' or 'atom'."""
    return f"{lang}/feeds/all.{fmt}.xml"


def type_feed(lang: str, kind: str, fmt: str) -> str:
    return f"{lang}/feeds/type/{kind}.{fmt}.xml"


def keyword_feed(lang: str, word: str, fmt: str) -> str:
    return f"{lang}/feeds/keyword/{keyword_slug(word)}.{fmt}.xml"


def search(lang: str) -> str:
    return f"{lang}/search/"


def subscribe(lang: str) -> str:
    """The full email subscription form (it posts to the subscription service)."""
    return f"{lang}/subscribe/"


def privacy(lang: str) -> str:
    """The privacy notice every subscription form links to."""
    return f"{lang}/privacy/"


def vcard(lang: str, contact_id: str) -> str:
    """A contact's card with the title in `lang`."""
    return f"{lang}/contacts/{contact_id}.vcf"


def calendar(release_url: str, slug: str) -> str:
    """An invitation's event as an iCalendar file, beside its page."""
    return f"{release_url}{slug}.ics"


def api(lang: str | None = None) -> str:
    """The JSON list of public releases: all languages, or one."""
    return f"api/{lang}/releases.json" if lang else "api/releases.json"


API_SCHEMA = "api/releases.schema.json"
SEARCH_BUNDLE = "pagefind/"
SITEMAP = "sitemap.xml"
FAVICON = "favicon.ico"  # browsers ask for it at the root, whatever the pages link
NEWS_SITEMAP = "sitemap-news.xml"
ROBOTS = "robots.txt"


def image(filename: str) -> str:
    """An image's original file (metadata stripped unless NEWSROOM_IMAGE_ORIGINAL is 'as-is')."""
    return f"images/{filename}"


def image_file(image_id: str, name: str) -> str:
    """A derivative of an image: a width, the thumbnail, the share or print file."""
    return f"images/{image_id}/{name}"


def images_zip(release_url: str, slug: str) -> str:
    """Every image of a release version in one ZIP, beside its page."""
    return f"{release_url}{slug}.zip"


def video(filename: str) -> str:
    """A video's original file, as the publisher gave it."""
    return f"videos/{filename}"


def video_file(video_id: str, name: str) -> str:
    """A file that goes with a video: its poster ('poster.jpg') or its captions ('<lang>.vtt')."""
    return f"videos/{video_id}/{name}"


def media(lang: str) -> str:
    """The media bank: every public image."""
    return f"{lang}/media/"


def attachment(name: str) -> str:
    return f"attachments/{name}"


def save_as(url: str) -> str:
    """The file a directory-style URL is written to."""
    return f"{url}index.html" if url.endswith("/") else url


def release_page(settings: dict, release) -> str:
    """A release version's address as the settings file spells it (ARTICLE_URL, or ARTICLE_LANG_URL)."""
    key = "ARTICLE_URL" if release.lang == settings["DEFAULT_LANG"] else "ARTICLE_LANG_URL"
    return settings[key].format(
        lang=release.lang, slug=release.slug, date=release.date, release=release.release_id, type=release.type
    )


def public_base(settings: dict) -> str:
    """Feed readers and emails need absolute addresses: SITEURL, or NEWSROOM_FEED_SITEURL while SITEURL is empty."""
    return (settings["SITEURL"] or settings["NEWSROOM_FEED_SITEURL"]).rstrip("/")
