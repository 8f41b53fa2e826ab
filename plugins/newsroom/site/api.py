"""The JSON API: static lists of the public releases for integrations, in the shape releases.schema.json fixes."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from newsroom.core import i18n, urls
from newsroom.core.model import Publisher
from newsroom.site.mediabank import ImageFiles

SCHEMA = Path(__file__).with_name("releases.schema.json")
VERSION = 1


def _image(image, lang: str, files: ImageFiles, site_url: str) -> dict:
    derived = files.of(image)
    return {
        "url": f"{site_url}/{urls.image(image.filename)}",
        "width": image.width,
        "height": image.height,
        "thumbnail": f"{site_url}/{derived['thumb'].url}",
        "share": f"{site_url}/{derived['share'].url}",
        "alt": image.alt.get(lang, ""),
        "caption": image.caption.get(lang, ""),
        "photographer": image.photographer,
        "licence": image.licence,
    }


def _video(video, lang: str, video_files: dict, site_url: str) -> dict:
    files = video_files[video.id]
    return {
        "url": f"{site_url}/{files.original.url}",
        "type": video.mime,
        "size": video.size,
        "width": video.width,
        "height": video.height,
        "duration": round(video.duration, 3),
        "poster": f"{site_url}/{files.poster.url}",
        "captions": [{"language": k, "url": f"{site_url}/{f.url}"} for k, f in files.captions.items()],
        "title": video.title.get(lang, ""),
        "alt": video.alt.get(lang, ""),
        "caption": video.caption.get(lang, ""),
        "credit": video.credit,
        "licence": video.licence,
    }


def _contact(contact, lang: str, site_url: str) -> dict:
    return {
        "id": contact.id,
        "name": contact.name,
        "title": contact.title.get(lang, ""),
        "unit": contact.unit.get(lang, ""),
        "phone": contact.phone,
        "email": contact.email,
        "photo": f"{site_url}/{urls.image(contact.photo.filename)}" if contact.photo else None,
        "vcard": f"{site_url}/{urls.vcard(lang, contact.id)}",
    }


def release(article, files: ImageFiles, site_url: str, tz: ZoneInfo, video_files: dict | None = None) -> dict:
    record = article.record
    event = record.event
    return {
        "id": record.release_id,
        "language": record.lang,
        "url": f"{site_url}/{article.url}",
        "type": record.type,
        "published": i18n.iso_date(record.date, tz),
        "modified": i18n.iso_date(record.modified, tz) if record.modified else None,
        "title": record.title,
        "lead": record.lead,
        "keywords": list(record.keywords),
        "translations": [{"language": t.lang, "url": f"{site_url}/{t.url}"} for t in article.translations],
        "images": [_image(image, record.lang, files, site_url) for image in record.images],
        "videos": [_video(video, record.lang, video_files or {}, site_url) for video in record.videos],
        "attachments": [
            {
                "name": a.name,
                "title": a.title[record.lang],
                "url": f"{site_url}/{urls.attachment(a.name)}",
                "type": a.mime,
                "size": a.size,
            }
            for a in record.attachments
        ],
        "contacts": [_contact(contact, record.lang, site_url) for contact in record.contacts],
        "event": None
        if event is None
        else {
            "start": i18n.iso_date(event.start, tz),
            "end": i18n.iso_date(event.end, tz) if event.end else None,
            "location": event.location,
            "address": event.address,
            "calendar": f"{site_url}/{urls.calendar(article.url, record.slug)}",
        },
    }


def document(
    articles: list,
    publisher: Publisher,
    files: ImageFiles,
    site_url: str,
    tz: ZoneInfo,
    lang: str | None = None,
    video_files: dict | None = None,
    made: dict[int, dict] | None = None,
) -> dict:
    """Newest first; `lang` limits the list to one language, None keeps every language. `made` holds the releases
    already made for another list of the same build (by id of the article), so each is made once."""
    made = {} if made is None else made
    for article in articles:
        if (lang is None or article.lang == lang) and id(article) not in made:
            made[id(article)] = release(article, files, site_url, tz, video_files)
    return {
        "$schema": f"{site_url}/{urls.API_SCHEMA}",
        "version": VERSION,
        "language": lang,
        "publisher": {
            "name": dict(publisher.name),
            "website": publisher.website,
            "logo": f"{site_url}/{publisher.logo.name}" if publisher.logo else None,
        },
        "releases": [made[id(a)] for a in articles if lang is None or a.lang == lang],
    }
