"""What search engines and link previews read from a release page: schema.org JSON-LD and the share image."""

from __future__ import annotations

import json
import re
from zoneinfo import ZoneInfo

from jinja2 import Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from newsroom.core import i18n, licences
from newsroom.core.model import Publisher, Release
from newsroom.core.settings import Settings
from newsroom.media.images import SEARCH_RATIOS
from newsroom.site.brand import Brand, BrandFile
from newsroom.site.mediabank import ImageFiles

# Open Graph names a language with a territory; the newsroom's Swedish is Finland Swedish.
OG_LOCALES = {"fi": "fi_FI", "sv": "sv_FI", "en": "en_GB"}
# The lead image in the ratios search engines show (16:9, 4:3, 1:1, each 1200 px wide), then in its own shape
# when that is as wide.
OWN_SHAPE, SEARCH_WIDTH = "w1600", 1200
SHARE_RECIPES = (*(f"ratio-{w}x{h}" for w, h in SEARCH_RATIOS), OWN_SHAPE)


def image_objects(release: Release, files: ImageFiles, site_url: str, brand: Brand) -> list[dict]:
    """The lead image in each ratio with its caption and credit; without one, the newsroom's share image."""
    image = release.lead_image
    if image is None:
        shared = brand.share_image
        return [_brand_image(shared, site_url)] if shared else []
    derived, seen, found = files.of(image), set(), []
    caption, licence = image.caption.get(release.lang), licences.url(image.licence)
    for recipe in SHARE_RECIPES:
        file = derived[recipe]
        if file.url not in seen and (recipe != OWN_SHAPE or file.width >= SEARCH_WIDTH):
            seen.add(file.url)
            found.append(
                {
                    "@type": "ImageObject",
                    "url": f"{site_url}/{file.url}",
                    "width": file.width,
                    "height": file.height,
                    **({"caption": caption} if caption else {}),
                    "creditText": image.photographer,
                    "copyrightNotice": f"{image.photographer}, {image.licence}",
                    **({"license": licence} if licence else {}),
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


def _brand_image(file: BrandFile, site_url: str) -> dict:
    return {"@type": "ImageObject", "url": f"{site_url}/{file.url}", "width": file.width, "height": file.height}


def share_image(release: Release, files: ImageFiles, site_url: str, brand: Brand, publisher: Publisher) -> dict | None:
    """The picture a link preview shows: the lead image cut to 1200 × 630 with its alt text in the release's
    language, else the newsroom's share image."""
    image = release.lead_image
    if image is None:
        shared = brand.share_image
        if shared is None:
            return None
        name = publisher.name[release.lang]
        return {"url": f"{site_url}/{shared.url}", "width": shared.width, "height": shared.height, "alt": name}
    file = files.of(image)["share"]
    return {
        "url": f"{site_url}/{file.url}",
        "width": file.width,
        "height": file.height,
        "alt": image.alt.get(release.lang, ""),
    }


def postal_address(address: str) -> dict:
    """'Rantakatu 4, 00990 Kaislaranta' as a schema.org PostalAddress: the part with a postal code is the town."""
    parts = [part.strip() for part in address.split(",") if part.strip()]
    data: dict = {"@type": "PostalAddress"}
    town = next((i for i, part in enumerate(parts) if re.fullmatch(r"\d{5}\s+\S.*", part)), None)
    if town is not None:
        code, locality = parts[town].split(None, 1)
        data.update(postalCode=code, addressLocality=locality)
        parts = parts[:town] + parts[town + 1 :]
    if parts:
        data["streetAddress"] = ", ".join(parts)
    return data


def organization(publisher: Publisher, lang: str, site_url: str, brand: Brand) -> dict:
    """Search engines show a raster logo only: the PNG or JPEG one where there is one."""
    org = {"@type": "Organization", "name": publisher.name[lang], "url": publisher.website}
    logo = brand.logo_raster or brand.logo
    if logo:
        org["logo"] = _brand_image(logo, site_url)
    return org


def news_article(
    release: Release, page_url: str, publisher: Publisher, files: ImageFiles, site_url: str, tz: ZoneInfo, brand: Brand
) -> dict:
    org = organization(publisher, release.lang, site_url, brand)
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
    pictures = image_objects(release, files, site_url, brand)
    if pictures:
        data["image"] = pictures
    return data


def event(
    release: Release, page_url: str, publisher: Publisher, files: ImageFiles, site_url: str, tz: ZoneInfo, brand: Brand
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
        "location": {
            "@type": "Place",
            "name": happening.location,
            "address": postal_address(happening.address)
            if happening.address
            else {"@type": "PostalAddress", "name": happening.location},
        },
        "organizer": organization(publisher, release.lang, site_url, brand),
        "inLanguage": release.lang,
        "url": page_url,
    }
    if happening.end:
        data["endDate"] = i18n.iso_date(happening.end, tz)
    if release.images:
        data["image"] = image_objects(release, files, site_url, brand)
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
        brand = context["brand"]
        parts = [news_article(release, page_url, publisher, files, site_url, tz, brand)]
        if release.videos:
            parts[0]["video"] = video_objects(release, context["video_files"], site_url, tz)
        if release.event:
            parts.append(event(release, page_url, publisher, files, site_url, tz, brand))
        return Markup("\n").join(script(part) for part in parts)

    @pass_context
    def share_image_of(context: Context, release: Release) -> dict | None:
        return share_image(release, context["image_files"], context["SITEURL"], context["brand"], context["publisher"])

    env.globals.update(json_ld=json_ld, share_image=share_image_of, og_locales=OG_LOCALES)
