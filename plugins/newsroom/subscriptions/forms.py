"""What a request carries, checked: the posted form, its origin, the token in the path, and the preferences a form
sets (with the errors to show beside its fields)."""

from __future__ import annotations

import re
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from newsroom.core.model import TYPES
from newsroom.core.text import has_control, split_list
from newsroom.mail.subscribers import FREQUENCIES, Preferences
from newsroom.subscriptions.config import origin_of
from newsroom.subscriptions.guard import MAX_BODY
from newsroom.subscriptions.problems import Problem

MAX_FIELD = 1000
MAX_KEYWORDS, MAX_KEYWORD_LENGTH = 20, 60
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,128}")
_SOURCE = re.compile(r"/[A-Za-z0-9/_.~%-]{0,300}")


async def read_form(request: Request, lang: str | None = None) -> FormData:
    """The posted form: only form encodings, no files, no value longer than MAX_FIELD."""
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


def check_origin(request: Request, lang: str, origins: frozenset[str]) -> None:
    """A state-changing post must come from our site or our own pages (CSRF); clients that send neither
    Origin nor Referer are not browsers acting for someone else."""
    origin, referer = request.headers.get("origin"), request.headers.get("referer")
    if origin is None and not referer:
        return
    if (origin if origin is not None else origin_of(referer or "")) not in origins:
        raise Problem(403, "origin", lang)


def token(request: Request, lang: str | None = None) -> str:
    """The token in the path, when it looks like one of ours (else the link is invalid)."""
    value = request.path_params["token"]
    if not _TOKEN.fullmatch(value):
        raise Problem(404, "invalid_link", lang)
    return value


def source(form: FormData) -> str:
    """The site page a sign-up form was on, when it is a plain path of ours ('' otherwise)."""
    value = str(form.get("source") or "")
    return value if _SOURCE.fullmatch(value) else ""


def preferences_from(
    form: FormData, langs: tuple[str, ...]
) -> tuple[Preferences | None, dict[str, str], dict[str, Any]]:
    """Preferences from a form, or the errors (field -> message code) and the values to show again."""
    languages = tuple(dict.fromkeys(form.getlist("languages")))
    types = tuple(dict.fromkeys(form.getlist("types")))
    # The site's form sends a box per keyword ticked and a text field of others; the service's, the text field alone.
    keywords_text = ", ".join(text for text in (str(value).strip() for value in form.getlist("keywords")) if text)
    keywords = split_list(keywords_text)
    frequency = str(form.get("frequency") or "immediate")
    values: dict[str, Any] = {
        "languages": list(languages),
        "types": list(types),
        "keywords": keywords_text,
        "frequency": frequency,
    }
    errors = {}
    if any(has_control(str(value)) for _, value in form.multi_items()):
        errors["form"] = "characters"
        values = {key: [] if isinstance(value, list) else "" for key, value in values.items()}
    if not languages:
        errors["languages"] = "languages_missing"
    elif any(code not in langs for code in languages):
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
