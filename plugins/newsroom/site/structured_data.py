"""What search engines and link previews read from a release page: schema.org JSON-LD and the share image."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from newsroom.core import i18n
from newsroom.core.model import Publisher, Release
from newsroom.core.settings import Settings
from newsroom.site.mediabank import ImageFiles

# Open Graph names a language with a territory; the newsroom's Swedish is Finland Swedish.
OG_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}
# The lead image in the ratios search engines crop to: wide (1.91:1), its own, 3:2 and square; largest first.
SHARE_RECIPES = ("share", "w1600", "thumb", "square")


def image_objects(release: Release, files: ImageFiles, site_url: str) -> list[dict]:
    image = release.lead_image
    if image is None:
        return []
    derived, seen, found = files.of(image), set(), []
    for recipe in SHARE_RECIPES:
        file = derived[recipe]
        if file.url not in seen:
            seen.add(file.url)
            found.append(
                {
                    "@type": "ImageObject",
                    "url": f"{site_url}/{file.url}",
                    "width": file.width,
                    "height": file.height,
                    "caption": image.alt.get(release.lang, ""),
                    "creditText": image.photographer,
                    "license": image.licence,
                }
            )
    return found


def video_objects(release: Release, video_files: dict, site_url: str, tz: ZoneInfo) -> list[dict]:
    """Each video as schema.org VideoObject: what search engines need to list it (name, poster, date, length)."""
    found = []
    for video in release.videos:
        files = video_files[video.id]
        found.append(
            {
                "@type": "VideoObject",
                "name": video.title.get(release.lang, ""),
                "description": video.caption.get(release.lang) or video.alt.get(release.lang, ""),
                "thumbnailUrl": f"{site_url}/{files.poster.url}",
                "contentUrl": f"{site_url}/{files.original.url}",
                "encodingFormat": video.mime,
                "uploadDate": i18n.iso_date(release.date, tz),
                "duration": f"PT{max(1, round(video.duration))}S",
                "width": video.width,
                "height": video.height,
                "inLanguage": release.lang,
                "creditText": video.credit,
                "license": video.licence,
                "caption": [
                    {
                        "@type": "MediaObject",
                        "contentUrl": f"{site_url}/{file.url}",
                        "encodingFormat": "text/vtt",
                        "inLanguage": lang,
                    }
                    for lang, file in files.captions.items()
                ],
            }
        )
    return found


def share_image(release: Release, files: ImageFiles, site_url: str) -> dict | None:
    """The picture a link preview shows: the lead image cut to 1200 × 630, with its alt text in the release's language."""
    image = release.lead_image
    if image is None:
        return None
    file = files.of(image)["share"]
    return {
        "url": f"{site_url}/{file.url}",
        "width": file.width,
        "height": file.height,
        "alt": image.alt.get(release.lang, ""),
    }


def organization(publisher: Publisher, lang: str, site_url: str) -> dict:
    org = {"@type": "Organization", "name": publisher.name[lang], "url": publisher.website}
    if publisher.logo:
        org["logo"] = {"@type": "ImageObject", "url": f"{site_url}/{publisher.logo.name}"}
    return org


def news_article(
    release: Release, page_url: str, publisher: Publisher, files: ImageFiles, site_url: str, tz: ZoneInfo
) -> dict:
    org = organization(publisher, release.lang, site_url)
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": release.title,
        "description": release.lead,
        "datePublished": i18n.iso_date(release.date, tz),
        "dateModified": i18n.iso_date(release.last_modified, tz),
        "inLanguage": release.lang,
        "keywords": list(release.keywords),
        "url": page_url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": page_url},
        "author": org,
        "publisher": org,
    }
    if release.images:
        data["image"] = image_objects(release, files, site_url)
    return data


def event(
    release: Release, page_url: str, publisher: Publisher, files: ImageFiles, site_url: str, tz: ZoneInfo
) -> dict:
    """An invitation's event, as schema.org `Event`: what, when, where and who invites."""
    happening = release.event
    data = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": release.title,
        "description": release.lead,
        "startDate": i18n.iso_date(happening.start, tz),
        "eventStatus": "https://schema.org/EventScheduled",
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
        "location": {"@type": "Place", "name": happening.location, "address": happening.location},
        "organizer": organization(publisher, release.lang, site_url),
        "inLanguage": release.lang,
        "url": page_url,
    }
    if happening.end:
        data["endDate"] = i18n.iso_date(happening.end, tz)
    if release.images:
        data["image"] = image_objects(release, files, site_url)
    return data


def script(data: dict) -> Markup:
    """A JSON-LD <script>; '<' is escaped so no text in the data can close the element early."""
    text = json.dumps(data, ensure_ascii=False, indent=1).replace("<", "\\u003c")
    return Markup(f'<script type="application/ld+json">\n{text}\n</script>')


def install(env: Environment, settings: dict) -> None:
    tz = Settings.of(settings).tz

    @pass_context
    def json_ld(context: Context, article) -> Markup:
        release, site_url, publisher = article.record, context["SITEURL"], context["publisher"]
        page_url, files = f"{site_url}/{article.url}", context["image_files"]
        parts = [news_article(release, page_url, publisher, files, site_url, tz)]
        if release.videos:
            parts[0]["video"] = video_objects(release, context["video_files"], site_url, tz)
        if release.event:
            parts.append(event(release, page_url, publisher, files, site_url, tz))
        return Markup("\n").join(script(part) for part in parts)

    @pass_context
    def share_image_of(context: Context, release: Release) -> dict | None:
        return share_image(release, context["image_files"], context["SITEURL"])

    env.globals.update(json_ld=json_ld, share_image=share_image_of, og_locales=OG_LOCALES)
