"""Loads a content folder into a Catalog, collecting every problem (file, line, field) instead of stopping at the first."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from newsroom.content import paths
from newsroom.content.header import Field, lines, parse_header
from newsroom.content.text import body_problems, field_problem
from newsroom.content.videos import load_videos
from newsroom.core import urls
from newsroom.core.clock import DateError, parse_local
from newsroom.core.model import (
    STATUSES,
    TYPES,
    Attachment,
    Catalog,
    Contact,
    Event,
    ImageAsset,
    Problem,
    Publisher,
    Release,
    VideoAsset,
)
from newsroom.core.settings import DEFAULTS, LANGUAGES, SLUG_SUBSTITUTIONS, Settings
from newsroom.core.slugs import slugify
from newsroom.core.text import split_list
from newsroom.media.attachments import BadAttachment, sniff_file
from newsroom.media.images import BadImage
from newsroom.media.images import inspect as inspect_image

RELEASE_FIELDS = (
    "Title",
    "Date",
    "Modified",
    "Type",
    "Lang",
    "Release",
    "Slug",
    "Lead",
    "Keywords",
    "Contacts",
    "Images",
    "Videos",
    "Attachments",
    "Status",
    "Pinned",
    "Event-Start",
    "Event-End",
    "Location",
    "Address",
    "New-Release",
    "Distribution",
    "Advance",
    "Correction",
    "Correction-Notify",
)
REQUIRED_FIELDS = ("Title", "Date", "Type", "Lang", "Release", "Lead")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
YES, NO = ("yes", "true", "1"), ("no", "false", "0")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}){1,2}$")
# A release's keywords: each has a listing page and two feeds, and every feed item lists the release's keywords, so
# the output grows with the square of a release's keyword count. Press releases carry a handful.
MAX_KEYWORDS = 20


class Problems(list[Problem]):
    def add(self, path: Path, line: int, field: str, message: str) -> None:
        self.append(Problem(path, line, field, message))


def load_catalog(
    root: Path,
    tz: ZoneInfo,
    langs: tuple[str, ...] = LANGUAGES,
    slug_subs: Iterable[tuple[str, str]] = SLUG_SUBSTITUTIONS,
    attachment_max_mb: int = DEFAULTS["NEWSROOM_ATTACHMENT_MAX_MB"],  # type: ignore[assignment]
) -> Catalog:
    root = Path(root)
    problems = Problems()
    images = _load_images(root / "images", langs, problems)
    attachments, unusable = _load_attachments(root, langs, attachment_max_mb * 1_000_000, problems)
    videos = load_videos(root / "videos", langs, problems, lambda path: _card(path, problems))
    contacts = _load_contacts(root / "contacts", images, langs, problems)
    publisher = _load_publisher(root / "newsroom.yaml", root, langs, problems)
    texts = _release_texts(root, problems)
    _check_pages(root, problems)
    loader = _ReleaseLoader(root, tz, langs, contacts, images, tuple(slug_subs), problems, videos)
    loader.attachments, loader.unusable = attachments, unusable
    headers, releases = _LOADED.load_all(loader, texts)
    _check_across_versions(headers, problems)
    _check_slugs(releases, problems)
    return Catalog(root, publisher, contacts, images, tuple(releases), tuple(problems), videos, attachments)


# --- YAML cards -----------------------------------------------------------------------------


def _read_yaml(path: Path, problems: Problems) -> tuple[dict, dict[str, int]] | None:
    """The mapping in a YAML file and the line of each top-level key."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except UnicodeDecodeError:
        problems.add(path, 1, "", "is not UTF-8 text; save it with UTF-8 encoding")
        return None
    except yaml.MarkedYAMLError as exc:
        # An unclosed quote is found where the text ends; the quote itself is where the scanner began the value.
        opened = exc.context and "quoted scalar" in exc.context
        mark = (exc.context_mark if opened else None) or exc.problem_mark or exc.context_mark
        problems.add(
            path,
            mark.line + 1 if mark else 1,
            "",
            f"is not valid YAML ({exc.problem}); check the indentation and put quotes around values "
            "that contain ':' or '#'",
        )
        return None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        problems.add(
            path, 1, "", "should hold 'field: value' lines (the fields are listed in docs/writing/content-reference.md)"
        )
        return None
    spanning = _multiline_quote(node)
    if spanning is not None:
        problems.add(
            path,
            spanning.start_mark.line + 1,
            "",
            f"the quote opened here is closed only on line {spanning.end_mark.line + 1}, so the lines between are "
            "read as part of this value; close the quote on the same line",
        )
        return None
    return data, {key.value: key.start_mark.line + 1 for key, _ in node.value}


def _multiline_quote(node: yaml.Node) -> yaml.ScalarNode | None:
    """The first quoted value that runs over several lines: in a card always a forgotten closing quote."""
    if isinstance(node, yaml.ScalarNode):
        return node if node.style in ('"', "'") and node.end_mark.line > node.start_mark.line else None
    children = node.value if isinstance(node, yaml.SequenceNode) else [n for pair in node.value for n in pair]
    return next((found for found in map(_multiline_quote, children) if found is not None), None)


class _Card:
    """Reads fields of one YAML card, reporting what is missing or mistyped against its line."""

    def __init__(self, path: Path, data: dict, lines: dict[str, int], problems: Problems):
        self.path, self.data, self.lines, self.problems = path, data, lines, problems

    def problem(self, field: str, message: str) -> None:
        self.problems.add(self.path, self.lines.get(field, 1), field, message)

    def text(self, field: str, example: str, required: bool = True, lines: bool = False) -> str:
        """A one-line text field (`lines`: line breaks allowed, as in a postal address)."""
        value = self.data.get(field)
        if value is not None and not isinstance(value, (str, int, float)):
            self.problem(field, f"should be a single line of text, like '{field}: {example}'")
            return ""
        value = "" if value is None else str(value).strip()
        if not value:
            if required:
                self.problem(field, f"is missing; add a line like '{field}: {example}'")
            return ""
        return self.clean(field, value, lines)

    def clean(self, field: str, value: str, lines: bool = False) -> str:
        """The value, or '' with a problem when it holds a character no line-based format can carry."""
        why = field_problem(value, lines)
        if why:
            self.problem(field, why)
            return ""
        return value

    def texts(self, field: str, langs: tuple[str, ...], required: bool = True) -> dict[str, str]:
        """A per-language field: a mapping of language to text, or one text for every language."""
        value = self.data.get(field)
        if value is None:
            if required:
                self.problem(field, f"is missing; add '{field}:' with a line per language ('  fi: ...')")
            return {}
        if isinstance(value, str):
            value = self.clean(field, value.strip())
            return {lang: value for lang in langs} if value else {}
        if not isinstance(value, dict):
            self.problem(field, "should have one line per language, like '  fi: ...', '  sv: ...'")
            return {}
        unknown = sorted(str(k) for k in value if k not in langs)
        if unknown:
            self.problem(field, f"unknown language {', '.join(unknown)}; use {', '.join(langs)}")
        texts = {k: self.clean(field, str(v).strip()) for k, v in value.items() if k in langs and v}
        return {k: v for k, v in texts.items() if v}

    def unknown_fields(self, known: tuple[str, ...]) -> None:
        for field in self.data:
            if field not in known:
                self.problem(str(field), f"is not a known field{_did_you_mean(str(field), known)}")


def _card(path: Path, problems: Problems) -> _Card | None:
    loaded = _read_yaml(path, problems)
    return None if loaded is None else _Card(path, *loaded, problems)


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(choices)}"


def _load_images(folder: Path, langs: tuple[str, ...], problems: Problems) -> dict[str, ImageAsset]:
    images: dict[str, ImageAsset] = {}
    files = {}
    for found in sorted(folder.glob("*")):
        if found.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if paths.inside(folder.parent, found.absolute()) is None:
            problems.add(found, 0, "", paths.outside_message(found.name, folder.parent))
        elif not found.is_file():
            problems.add(found, 0, "", "is not a picture file (a folder?); rename or remove it")
        else:
            files[found.stem] = found
    for sidecar in sorted(folder.glob("*.yaml")):
        image_id = sidecar.stem
        source = files.get(image_id)
        if source is None:
            problems.add(sidecar, 1, "", f"has no picture beside it; add {image_id}.jpg, .png or .webp to {folder}")
            continue
        loaded = _read_yaml(sidecar, problems)
        if loaded is None:
            continue
        card = _Card(sidecar, *loaded, problems)
        card.unknown_fields(("alt", "caption", "photographer", "licence"))
        alt = card.texts("alt", langs)
        caption = card.texts("caption", langs, required=False)
        photographer = card.text("photographer", "Leena Saarinen")
        licence = card.text("licence", "CC BY 4.0")
        try:
            width, height = inspect_image(source)
        except BadImage as exc:
            problems.add(source, 0, "", str(exc))
            continue
        images[image_id] = ImageAsset(
            image_id, source, width, height, source.stat().st_size, alt, caption, photographer, licence
        )
    for image_id, source in files.items():
        if not (folder / f"{image_id}.yaml").exists():
            problems.add(
                source, 0, "", f"has no sidecar {image_id}.yaml with its alt text, caption and credit; add one"
            )
    return images


def _load_attachments(
    root: Path, langs: tuple[str, ...], max_bytes: int, problems: Problems
) -> tuple[dict[str, Attachment], dict[str, str]]:
    """Each file in attachments/ with its sidecar (<name without ending>.yaml: a title per language), by the name
    releases give it; and why each of the others cannot be attached, for the releases that name them."""
    folder = root / "attachments"
    found: dict[str, Attachment] = {}
    unusable: dict[str, str] = {}
    if not folder.is_dir():
        return found, unusable
    files: dict[Path, Path] = {}  # sidecar -> file
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if any(part.startswith(".") for part in path.relative_to(folder).parts) or path.suffix == ".yaml":
            continue  # editors' own files, and the sidecars
        if paths.inside(root, path.absolute()) is None:
            problems.add(path, 0, "", paths.outside_message(path.relative_to(root), root))
            unusable[name] = paths.outside_message(name, root)
            continue
        if path.is_dir():
            continue
        sidecar = path.with_suffix(".yaml")
        if sidecar in files:
            why = f"has the same name as {files[sidecar].name} before its ending, so they would share {sidecar.name}"
            problems.add(path, 0, "", f"{why}; rename one of them")
            unusable[name] = why
            continue
        files[sidecar] = path
        try:
            kind = sniff_file(path, max_bytes)
        except BadAttachment as exc:
            problems.add(path, 0, "", str(exc))
            unusable[name] = str(exc)
            continue
        if not sidecar.is_file():
            why = f"has no sidecar {sidecar.name} with its title in each language"
            problems.add(path, 0, "", f"{why}; add one with lines 'title:', '  fi: ...', '  sv: ...'")
            unusable[name] = f"{why}; add {sidecar.relative_to(root)} with lines 'title:', '  fi: ...'"
            continue
        card = _card(sidecar, problems)
        if card is None:
            unusable[name] = f"has a sidecar {sidecar.relative_to(root)} that cannot be read"
            continue
        card.unknown_fields(("title",))
        found[name] = Attachment(name, path, path.stat().st_size, card.texts("title", langs), kind.label, kind.mime)
    for sidecar in sorted(folder.rglob("*.yaml")):
        if sidecar not in files and not any(p.startswith(".") for p in sidecar.relative_to(folder).parts):
            problems.add(sidecar, 1, "", "has no attachment beside it; add the file or remove the sidecar")
    return found, unusable


def _load_contacts(
    folder: Path, images: dict[str, ImageAsset], langs: tuple[str, ...], problems: Problems
) -> dict[str, Contact]:
    contacts: dict[str, Contact] = {}
    for path in sorted(folder.glob("*.yaml")):
        loaded = _read_yaml(path, problems)
        if loaded is None:
            continue
        card = _Card(path, *loaded, problems)
        card.unknown_fields(("name", "title", "phone", "email", "unit", "photo"))
        email = card.text("email", "firstname.lastname@example.org")
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            card.problem("email", f"'{email}' is not an email address")
        photo_id = card.text("photo", "portrait-id", required=False)
        if photo_id and photo_id not in images:
            card.problem("photo", f"no image '{photo_id}' in content/images{_did_you_mean(photo_id, sorted(images))}")
        contacts[path.stem] = Contact(
            id=path.stem,
            name=card.text("name", "Aino Lehtonen"),
            title=card.texts("title", langs),
            phone=card.text("phone", "+358 40 555 0101"),
            email=email,
            unit=card.texts("unit", langs, required=False),
            photo=images.get(photo_id) if photo_id else None,
            revised=datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(microsecond=0),
        )
    return contacts


def _load_publisher(path: Path, root: Path, langs: tuple[str, ...], problems: Problems) -> Publisher | None:
    if not path.exists():
        problems.add(
            path,
            0,
            "",
            "is missing; it holds the publisher's name, address and logo (see docs/writing/content-reference.md, Publisher)",
        )
        return None
    loaded = _read_yaml(path, problems)
    if loaded is None:
        return None
    card = _Card(path, *loaded, problems)
    card.unknown_fields(
        (
            *("name", "address", "phone", "email", "website", "about", "media_use", "logo", "brand_color", "social"),
            *BRAND_FILES,
            "name_forms",
            "media_phone",
        )
    )
    name = card.texts("name", langs)
    for lang in langs:
        if name and lang not in name:
            card.problem("name", f"has no name in {lang}; add '  {lang}: ...'")
    logo_name = card.text("logo", "logo.svg", required=False)
    logo = paths.inside(root, logo_name) if logo_name else None
    if logo_name and logo is None:
        card.problem("logo", paths.outside_message(logo_name, root))
    elif logo is not None and not logo.is_file():
        card.problem("logo", f"file {root / logo_name} does not exist; give a path relative to {root}")
        logo = None
    colour = card.text("brand_color", "#0b4f6c", required=False) or "#0b4f6c"
    if not _COLOUR.match(colour):
        card.problem("brand_color", f"'{colour}' is not a colour; write it like '#0b4f6c'")
    social = []
    for entry in card.data.get("social") or []:
        if not isinstance(entry, dict) or not entry.get("name") or not entry.get("url"):
            card.problem("social", "each entry needs '- name: ...' and '  url: https://...'")
            continue
        social.append((card.clean("social", str(entry["name"])), card.clean("social", str(entry["url"]))))
    brand = {key: _brand_file(card, root, key) for key in BRAND_FILES}
    return Publisher(
        name=name,
        address=card.text("address", "PL 1, 00990 Kaupunki", lines=True),
        phone=card.text("phone", "+358 9 555 1000"),
        email=card.text("email", "viestinta@example.org", required=False),
        website=card.text("website", "https://www.example.org"),
        about=card.texts("about", langs),
        media_use=card.texts("media_use", langs, required=False),
        logo=logo,
        brand_color=colour,
        social=tuple(social),
        **brand,
        name_forms=_name_forms(card, langs),
        media_phone=card.text("media_phone", "+358 9 555 1010", required=False),
    )


# The publisher's raster files: what each is for, and the smallest size (width, height) it is used at.
BRAND_FILES = {
    "logo_raster": ("the wide logo as PNG or JPEG, for feeds and search engines", (144, 36)),
    "icon": ("a square icon as PNG, for favicon.ico and feed readers", (144, 144)),
    "share_image": ("the picture link previews show for pages without their own", (1200, 630)),
}
# Forms sentences ask the name in (Finnish inflects names: "Kaislarannan kaupungin tiedotteet").
NAME_CASES = ("text", "genitive")  # text: as running text needs it, e.g. with an article ("the City of ...")


def _brand_file(card: _Card, root: Path, key: str) -> Path | None:
    what, (least_w, least_h) = BRAND_FILES[key]
    name = card.text(key, f"{key.replace('_', '-')}.png", required=False)
    if not name:
        return None
    path = root / name
    if not path.is_file():
        card.problem(key, f"file {path} does not exist; give {what}, relative to {root}")
        return None
    try:
        width, height = inspect_image(path)
    except BadImage as exc:
        card.problem(key, f"{path.name} {exc}")
        return None
    if key == "icon" and width != height:
        card.problem(key, f"{path.name} is {width} × {height} px; the icon must be square, at least {least_w} px")
    elif width < least_w or height < least_h:
        card.problem(key, f"{path.name} is {width} × {height} px; {what} should be at least {least_w} × {least_h} px")
    return path


def _name_forms(card: _Card, langs: tuple[str, ...]) -> dict[str, dict[str, str]]:
    forms = card.data.get("name_forms") or {}
    if not isinstance(forms, dict):
        card.problem("name_forms", "write it as 'fi:' and below it 'genitive: Kaislarannan kaupungin'")
        return {}
    found: dict[str, dict[str, str]] = {}
    for lang, cases in forms.items():
        if lang not in langs or not isinstance(cases, dict):
            card.problem("name_forms", f"'{lang}' should be one of {', '.join(langs)}, with cases below it")
            continue
        for case, text in cases.items():
            if case not in NAME_CASES or not isinstance(text, str) or not text.strip():
                card.problem("name_forms", f"{lang}: '{case}' should be one of {', '.join(NAME_CASES)} with a name")
                continue
            found.setdefault(str(lang), {})[case] = text.strip()
    if "fi" in langs and "genitive" not in found.get("fi", {}):
        fi_name = card.data.get("name", {}).get("fi", "") if isinstance(card.data.get("name"), dict) else ""
        example = (
            (fi_name.rsplit(" ", 1)[0] + " kaupungin") if fi_name.endswith(" kaupunki") else "Kaislarannan kaupungin"
        )
        card.problem(
            "name_forms",
            "needs the Finnish genitive of the name, for sentences such as 'Kaislarannan kaupungin tiedotteet': "
            f"add 'name_forms:', '  fi:' and '    genitive: {example}'",
        )
    return found


# --- releases -------------------------------------------------------------------------------

# Files Pelican would read as content, but not as a release of this newsroom (it would skip or crash on them).
RELEASE_SUFFIX = ".md"


def _release_texts(root: Path, problems: Problems) -> list[tuple[Path, str]]:
    """The text of every release file, with a problem for anything in releases/ that cannot be one."""
    texts = []
    folder = root / "releases"
    folder_inside = paths.inside(root, folder.absolute()) is not None
    for path, is_link, is_dir in sorted(_entries(folder)):
        # Only a link leads out of the content folder: what is in a folder that lies inside it, and is no link, does.
        if (is_link or not folder_inside) and paths.inside(root, path.absolute()) is None:
            problems.add(path, 0, "", paths.outside_message(path.relative_to(root), root))
        elif is_dir:
            if path.suffix == RELEASE_SUFFIX:
                problems.add(path, 0, "", "is a folder with a release's name; rename it (its files are read as usual)")
        elif path.suffix != RELEASE_SUFFIX:
            problems.add(
                path,
                0,
                "",
                f"is not a release: releases are Markdown files ending in '{RELEASE_SUFFIX}'; rename it to "
                f"'{path.stem}{RELEASE_SUFFIX}' or move it out of releases/",
            )
        else:
            text = _utf8(path, problems)
            if text is not None:
                texts.append((path, text))
    return texts


def _entries(folder: Path) -> Iterator[tuple[Path, bool, bool]]:
    """(path, is a link, is a folder) of everything under `folder`, as rglob finds it (not into linked folders), but
    not into folders or files whose name starts with a dot (editors' and version control's own files); os.scandir
    knows from the listing what each entry is, where a Path asks the disk again."""
    folders = [str(folder)] if folder.is_dir() else []
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                is_link, is_dir = entry.is_symlink(), entry.is_dir()
                yield Path(entry.path), is_link, is_dir
                if is_dir and not is_link:
                    folders.append(entry.path)


def _check_pages(root: Path, problems: Problems) -> None:
    """Pelican publishes every page file it finds, wherever a symlink among them points."""
    for path in sorted((root / "pages").rglob("*")):
        if paths.inside(root, path.absolute()) is None:
            problems.add(path, 0, "", paths.outside_message(path.relative_to(root), root))


def _utf8(path: Path, problems: Problems) -> str | None:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(path, line, "", "is not UTF-8 text (perhaps Latin-1 or Windows-1252); save it with UTF-8 encoding")
        return None


class _Loaded:
    """Each release file as the last catalog of this process read it: the resident publisher reads the content again
    after every save, and a file whose text is as it was, with the cards, pictures and attachments it can name as they
    were, gives the same header, Release and problems (a Release is immutable, so it is shared)."""

    def __init__(self) -> None:
        self.last: dict[tuple[str, str, str], tuple] = {}

    def load_all(self, loader: _ReleaseLoader, texts: list[tuple[Path, str]]) -> tuple[list, list[Release]]:
        named = (loader.root, loader.tz, loader.langs, loader.slug_subs, loader.contacts, loader.images, loader.videos)
        shared = hashlib.sha256(repr((*named, loader.attachments, loader.unusable)).encode()).hexdigest()
        now, headers, releases = {}, [], []
        for path, text in texts:
            key = (str(path), text, shared)
            if key not in self.last:
                header = parse_header(text)
                before = len(loader.problems)
                release = loader.load(path, text, *header)
                self.last[key] = (header, release, loader.problems[before:])
            else:
                loader.problems.extend(self.last[key][2])
            now[key] = self.last[key]
            header, release, _ = now[key]
            headers.append((path, *header))
            releases += [release] if release else []
        self.last = now
        return headers, releases


_LOADED = _Loaded()


class _ReleaseLoader:
    """Turns one release header into a Release with its references resolved, or reports why it cannot."""

    def __init__(self, root, tz, langs, contacts, images, slug_subs, problems: Problems, videos=None):
        self.root, self.tz, self.langs = root, tz, langs
        self.contacts, self.images, self.slug_subs = contacts, images, slug_subs
        self.videos: dict[str, VideoAsset] = videos or {}
        self.attachments: dict[str, Attachment] = {}
        self.unusable: dict[str, str] = {}  # attachment name -> why it cannot be attached
        self.problems = problems

    def load(self, path: Path, text: str, fields: dict[str, Field], repeated: list[Field]) -> Release | None:
        before = len(self.problems)

        def problem(field: str, message: str) -> None:
            found = fields.get(field.lower())
            self.problems.add(path, found.line if found else 1, field, message)

        def get(field: str) -> str:
            found = fields.get(field.lower())
            return found.value if found else ""

        if not fields:
            self.problems.add(
                path,
                1,
                "",
                "has no metadata header; start the file with lines like 'Title: ...', "
                "then a blank line, then the text (or run 'newsroom new release')",
            )
            return None
        for extra in repeated:
            self.problems.add(path, extra.line, extra.name, "appears twice; keep only one")
        for found in fields.values():
            why = field_problem(found.value)
            if why:
                self.problems.add(path, found.line, found.name, why)
        every = lines(text)
        start = next((i for i, line in enumerate(every) if i and not line.strip()), len(every))
        for number, why in body_problems("\n".join(every[start:]), start + 1):
            self.problems.add(path, number, "", why)
        for found in fields.values():
            if found.name not in RELEASE_FIELDS:
                problem(found.name, f"is not a known field{_did_you_mean(found.name, RELEASE_FIELDS)}")
        for field in REQUIRED_FIELDS:
            if not get(field):
                problem(field, f"is missing; add a '{field}: ...' line to the header")

        kind, lang = get("Type"), get("Lang")
        if kind and kind not in TYPES:
            problem("Type", f"'{kind}' is not a release type{_did_you_mean(kind, TYPES)}")
        if lang and lang not in self.langs:
            problem("Lang", f"'{lang}' is not a language of this newsroom; use one of {', '.join(self.langs)}")
        release_id = get("Release")
        if release_id and not _ID.match(release_id):
            problem(
                "Release",
                f"'{release_id}' should be lowercase letters, digits and hyphens, like 'library-opening-2026'",
            )
        slug = get("Slug")
        if slug and not _ID.match(slug):
            problem("Slug", f"'{slug}' should be lowercase letters, digits and hyphens")
        status = get("Status") or "published"
        if status not in STATUSES:
            problem("Status", f"'{status}' is not a status; use 'published' or 'draft'")
        pinned = get("Pinned").lower()
        if pinned and pinned not in YES + NO:
            problem("Pinned", f"'{pinned}' should be 'yes' or 'no'")
        new_release = get("New-Release").lower()
        if new_release and new_release not in YES + NO:
            problem("New-Release", f"'{new_release}' should be 'yes' or 'no'")

        date = self._date(get, problem, "Date")
        modified = self._date(get, problem, "Modified")
        if date and modified and modified < date:
            problem("Modified", "is earlier than Date; a correction is dated after the release")
        if get("Correction") and not modified:
            problem("Correction", "needs the time of the correction; add 'Modified: 2026-03-01 12:00' to the header")
        notify = get("Correction-Notify").lower()
        if notify and notify not in YES + NO:
            problem("Correction-Notify", f"'{notify}' should be 'yes' or 'no'")
        event = self._event(kind, get, problem)
        contacts = self._resolve(
            split_list(get("Contacts")), self.contacts, "Contacts", "contact", "content/contacts/<id>.yaml", problem
        )
        images = self._resolve(
            split_list(get("Images")), self.images, "Images", "image", "content/images/<id>.yaml", problem
        )
        for image in images:
            if lang in self.langs and not image.alt.get(lang):
                problem(
                    "Images",
                    f"image '{image.id}' has no alt text in {lang}; add '  {lang}: ...' under 'alt:' in {image.path.with_suffix('.yaml')}",
                )
        videos = self._resolve(
            split_list(get("Videos")), self.videos, "Videos", "video", "content/videos/<id>.yaml", problem
        )
        keywords = split_list(get("Keywords"))
        if len(keywords) > MAX_KEYWORDS:
            problem(
                "Keywords",
                f"has {len(keywords)} keywords; a release may have at most {MAX_KEYWORDS} (each one gets its own "
                "page and feeds): keep the ones a reader would search for",
            )
        for word in keywords:
            if not urls.keyword_slug(word):
                problem("Keywords", f"'{word}' has no letters or digits to make its page's address from; use a word")
        title = get("Title")
        slug = slug or slugify(title, self.slug_subs)
        if title and not slug:
            problem(
                "Title",
                "has no letters or digits to make the release's address from; add a line like 'Slug: budget-2027'",
            )
        attachments = tuple(
            a for a in (self._attachment(name, lang, problem) for name in split_list(get("Attachments"))) if a
        )
        distribution, advance = self._distribution(get, problem, date)

        if len(self.problems) > before:
            return None
        return Release(
            source=path,
            release_id=release_id,
            lang=lang,
            type=kind,
            title=title,
            slug=slug,
            date=date,
            modified=modified,
            lead=get("Lead"),
            keywords=keywords,
            contacts=contacts,
            images=images,
            attachments=attachments,
            status=status,
            pinned=pinned in YES,
            event=event,
            new_release=new_release in YES,
            lines={found.name: found.line for found in fields.values()},
            distribution=distribution,
            advance=advance,
            videos=videos,
            correction=get("Correction"),
            correction_notify=notify in YES,
        )

    def _date(self, get, problem, field: str):
        text = get(field)
        if not text:
            return None
        try:
            return parse_local(text, self.tz)
        except DateError as exc:
            problem(field, str(exc))
            return None

    def _event(self, kind: str, get, problem) -> Event | None:
        if kind != "invitation":
            for field in ("Event-Start", "Event-End", "Location", "Address"):
                if get(field):
                    problem(field, "is only for invitations; set 'Type: invitation' or remove the line")
            return None
        for field in ("Event-Start", "Location"):
            if not get(field):
                problem(field, f"is missing; an invitation tells when and where, add '{field}: ...'")
        start, end = self._date(get, problem, "Event-Start"), self._date(get, problem, "Event-End")
        if start and end and end < start:
            problem("Event-End", "is before Event-Start")
        return Event(start, end, get("Location"), get("Address")) if start else None

    def _distribution(self, get, problem, date) -> tuple[tuple[str, ...], datetime | None]:
        """The media lists named, and the advance time, which only lists can use and must come before Date."""
        lists = split_list(get("Distribution"))
        for name in lists:
            if not _ID.match(name):
                problem("Distribution", f"'{name}' is not a list name; names are like 'culture-desk', comma-separated")
        advance = self._date(get, problem, "Advance")
        if advance and not lists:
            problem("Advance", "sends to media lists in advance, but there is no 'Distribution: list-name' line")
        if advance and date and advance >= date:
            problem("Advance", "is not before Date; an advance send under embargo goes before the release is public")
        return lists, advance

    @staticmethod
    def _resolve(ids, known: dict, field: str, noun: str, where: str, problem) -> tuple:
        for missing in (i for i in ids if i not in known):
            problem(field, f"no {noun} '{missing}' ({where}){_did_you_mean(missing, sorted(known))}")
        return tuple(known[i] for i in ids if i in known)

    def _attachment(self, name: str, lang: str, problem) -> Attachment | None:
        folder = self.root / "attachments"
        path = paths.inside(self.root, name, folder)
        if path is None:
            problem("Attachments", paths.outside_message(name, self.root))
            return None
        if folder.resolve() not in path.parents or not path.is_file():
            problem("Attachments", f"no file '{name}' in {self.root / 'attachments'}; put it there or fix the name")
            return None
        key = path.relative_to(folder.resolve()).as_posix()
        known = self.attachments.get(key)
        if known is None:
            why = self.unusable.get(key, "cannot be read")
            problem("Attachments", f"attachment '{name}' {why}")
            return None
        if lang in self.langs and not known.title.get(lang):
            problem(
                "Attachments",
                f"attachment '{name}' has no title in {lang}; add '  {lang}: ...' under 'title:' in "
                f"{known.path.with_suffix('.yaml')}",
            )
            return None
        return known


def _check_across_versions(headers: list[tuple[Path, dict[str, Field], list[Field]]], problems: Problems) -> None:
    """Language versions of one Release: one file per language, and the same Type in each."""
    groups: dict[str, list[tuple[Path, dict[str, Field]]]] = defaultdict(list)
    for path, fields, _ in headers:
        if "release" in fields:
            groups[fields["release"].value].append((path, fields))
    for release_id, versions in groups.items():
        seen: dict[str, Path] = {}
        for path, fields in versions:
            lang = fields.get("lang")
            if lang and lang.value in seen:
                problems.add(
                    path,
                    fields["release"].line,
                    "Release",
                    f"'{release_id}' already has a {lang.value} version in {seen[lang.value]}; "
                    "give this file its own Release id or another Lang",
                )
            elif lang:
                seen[lang.value] = path
        for name in ("distribution", "advance"):
            values = {fields[name].value if name in fields else "" for _, fields in versions}
            if len(values) > 1:
                for path, fields in versions:
                    problems.add(
                        path,
                        fields[name].line if name in fields else 1,
                        name.capitalize(),
                        f"the language versions of '{release_id}' differ; give the same "
                        f"'{name.capitalize()}: ...' line in each (or none)",
                    )
        types = {fields["type"].value for _, fields in versions if "type" in fields}
        if len(types) > 1:
            for path, fields in versions:
                if "type" in fields:
                    problems.add(
                        path,
                        fields["type"].line,
                        "Type",
                        f"the language versions of '{release_id}' have different types ({', '.join(sorted(types))}); "
                        "use the same Type in each",
                    )


def _check_slugs(releases: list[Release], problems: Problems) -> None:
    seen: dict[tuple[str, str], Release] = {}
    for release in releases:
        key = (release.lang, release.slug)
        if key in seen:
            problems.add(
                release.source,
                1,
                "Slug",
                f"'{release.slug}' is also the address of {seen[key].source}; add a different 'Slug: ...' to one of them",
            )
        else:
            seen[key] = release


class ContentError(Exception):
    """The content has problems; the message lists every one, one per line."""

    def __init__(self, problems: tuple[Problem, ...]):
        self.problems = problems
        count = len(problems)
        super().__init__(
            f"{count} problem{'s' if count != 1 else ''} in the content:\n" + "\n".join(map(str, problems))
        )


def catalog_for(settings: dict) -> Catalog:
    """The catalog of the content folder a build's settings name."""
    checked = Settings.of(settings)
    return load_catalog(
        checked.content,
        checked.tz,
        checked.langs,
        checked.slug_substitutions,
        checked["NEWSROOM_ATTACHMENT_MAX_MB"],
    )


def publisher_for(settings: dict) -> Publisher | None:
    """The publisher's card alone (newsroom.yaml), for services that need no releases or pictures; None if it has problems."""
    checked = Settings.of(settings)
    problems = Problems()
    publisher = _load_publisher(checked.content / "newsroom.yaml", checked.content, checked.langs, problems)
    return None if problems else publisher
