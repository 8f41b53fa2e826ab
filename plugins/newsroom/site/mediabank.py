"""The Pelican generator for pictures: derivatives of every public image, the media bank pages and each release's
ZIP of its images; templates find an image's files through `image_files.of(image)`."""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pelican.generators import Generator

from newsroom.content.catalog import ContentError
from newsroom.core import i18n, urls
from newsroom.core.model import Contact, ImageAsset, Problem, VideoAsset
from newsroom.core.settings import Settings
from newsroom.media import images, videos
from newsroom.media.images import Derived, File
from newsroom.site.context import RELEASES_KEY, write_page


class NotPublic(LookupError):
    """A template asked for the files of an image no public release or contact uses: none were made."""


class ImageFiles:
    """What templates call: `image_files.of(image)["w960.webp"].url`, `.srcset("w", true, SITEURL)`, `.downloads()`."""

    def __init__(self, derived: dict[str, Derived]):
        self.derived = derived

    def of(self, image: ImageAsset) -> Derived:
        if image.id not in self.derived:
            raise NotPublic(f"image '{image.id}' is used by no public release or contact, so it has no files")
        return self.derived[image.id]


@dataclass
class Entry:
    """One picture of the media bank: its files and where it is used."""

    files: Derived
    releases: list  # public Articles using it, newest first, every language
    contacts: list[Contact]

    @property
    def image(self) -> ImageAsset:
        return self.files.image

    def releases_in(self, lang: str) -> list:
        """The releases in the page's language, else those in any language (the template marks their language)."""
        return [a for a in self.releases if a.lang == lang] or self.releases


@dataclass
class VideoFiles:
    """One public video's files in the site: `files.original`, `.poster`, `.captions[lang]` (each a File)."""

    video: VideoAsset
    original: File
    poster: File
    captions: dict[str, File]
    releases: list  # public Articles using it, newest first, every language

    def all(self) -> list[File]:
        return [self.original, self.poster, *self.captions.values()]

    def releases_in(self, lang: str) -> list:
        return [a for a in self.releases if a.lang == lang] or self.releases


def public_videos(articles: list) -> dict[str, tuple[VideoAsset, list]]:
    found: dict[str, tuple[VideoAsset, list]] = {}
    for article in articles:
        for video in article.record.videos:
            found.setdefault(video.id, (video, []))[1].append(article)
    return found


def video_files(video: VideoAsset, uses: list, cache: Path) -> VideoFiles:
    """The video's files, its poster taken by ffmpeg into the cache unless the sidecar names a picture."""
    poster = video.poster or videos.poster(video.path, cache, min(1.0, video.duration / 2))
    poster_name = "poster" + (poster.suffix.lower() if video.poster else ".jpg")
    poster_type = {".png": "image/png", ".webp": "image/webp"}.get(poster.suffix.lower(), "image/jpeg")
    return VideoFiles(
        video,
        File(urls.video(video.filename), video.width, video.height, video.size, video.mime, video.path),
        File(urls.video_file(video.id, poster_name), 0, 0, poster.stat().st_size, poster_type, poster),
        {
            lang: File(urls.video_file(video.id, f"{lang}.vtt"), 0, 0, path.stat().st_size, "text/vtt", path)
            for lang, path in video.captions.items()
        },
        uses,
    )


def public_images(articles: list, contacts: list[Contact]) -> dict[str, tuple[ImageAsset, list, list[Contact]]]:
    """Every image a public release or a contact card shows, newest use first, with those that use it."""
    found: dict[str, tuple[ImageAsset, list, list[Contact]]] = {}
    for article in articles:
        for image in article.record.images:
            found.setdefault(image.id, (image, [], []))[1].append(article)
    for contact in contacts:
        if contact.photo:
            found.setdefault(contact.photo.id, (contact.photo, [], []))[2].append(contact)
    return found


class MediaBankGenerator(Generator):
    """Runs after NewsroomGenerator; makes every file in generate_context, so pages written later know each size."""

    def generate_context(self) -> None:
        articles = self.context.get(RELEASES_KEY, [])
        used = public_images(articles, self.context["all_contacts"])
        self.cache = Path(self.settings["NEWSROOM_IMAGE_CACHE"])
        original = self.settings["NEWSROOM_IMAGE_ORIGINAL"]
        if original not in images.ORIGINAL_MODES:
            raise ValueError(f"NEWSROOM_IMAGE_ORIGINAL is '{original}'; use one of {', '.join(images.ORIGINAL_MODES)}")
        derived, problems = images.derive(
            [image for image, _, _ in used.values()], self.cache, original, self.settings["NEWSROOM_PROCESSES"]
        )
        problems = list(problems)
        self.files = ImageFiles(derived)
        self.videos: dict[str, VideoFiles] = {}
        for key, (video, uses) in public_videos(articles).items():
            try:
                self.videos[key] = video_files(video, uses, self.cache)
            except videos.BadVideo as exc:
                problems.append(Problem(video.path, 0, "", str(exc)))
        if problems:
            raise ContentError(tuple(problems))
        self.context["video_files"] = self.videos
        self.context["media_videos"] = list(self.videos.values())
        self.context["image_files"] = self.files
        self.context["media_bank"] = [Entry(derived[key], uses, people) for key, (_, uses, people) in used.items()]
        catalogs = i18n.catalog_dir(self.settings)
        self.zips = {}
        for article in articles:
            if article.record.images or article.record.videos:
                article.images_zip = self._zip(article, catalogs)
                if article.record.lead_image:  # a release may have videos and no picture
                    article.email_image = self.files.of(article.record.lead_image)[
                        "email"
                    ]  # the manifest's, for emails
                self.zips[article.images_zip.url] = article.images_zip
        kept = [file.path for d in derived.values() for file in d.files.values()] + [z.path for z in self.zips.values()]
        kept += [v.poster.path for v in self.videos.values()]
        images.prune(self.cache, {Path(path) for path in kept if self.cache in Path(path).parents})

    def generate_output(self, writer) -> None:
        out = Path(self.output_path)
        placed = {file.url: file for derived in self.files.derived.values() for file in derived.files.values()}
        placed.update(self.zips)
        placed.update({file.url: file for files in self.videos.values() for file in files.all()})
        for url, file in placed.items():
            _place(file.path, out / url)
        _remove_others(out / urls.image(""), {out / url for url in placed})
        _remove_others(out / urls.video(""), {out / url for url in placed})
        for lang in self.settings["NEWSROOM_LANGUAGES"]:
            write_page(self, writer, urls.media(lang), "media", lang, alternate_url=urls.media)

    def _zip(self, article, catalogs: Path) -> File:
        """All images of one release version in print quality and its videos with their captions and posters, with a
        credits file in its language; built once."""
        record = article.record
        members = [(_zip_name(image, self.files), str(self.files.of(image)["print"].path)) for image in record.images]
        for video in record.videos:
            files = self.videos[video.id]
            members.append((video.filename, str(video.path)))
            members.append((f"{video.id}-{Path(files.poster.url).name}", str(files.poster.path)))
            members += [(f"{video.id}.{lang}.vtt", str(file.path)) for lang, file in files.captions.items()]
        credits = _credits(article, self.files, catalogs, self.settings["SITEURL"])
        stamp = record.date.astimezone(Settings.of(self.settings).tz).timetuple()[:6]
        # Video files are not named by their content as derivatives are: their size and time stand for it.
        changed = [(Path(p).stat().st_size, Path(p).stat().st_mtime_ns) for _, p in members]
        key = hashlib.sha256(repr((images.VERSION, members, changed, credits, stamp)).encode()).hexdigest()
        cached = self.cache / "zip" / f"{key[:32]}.zip"
        if not cached.exists():
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_STORED) as archive:
                for name, data in [*((n, Path(p).read_bytes()) for n, p in members), ("credits.txt", credits.encode())]:
                    info = zipfile.ZipInfo(name, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
                    info.create_system, info.external_attr = 3, 0o644 << 16
                    archive.writestr(info, data)
            os.replace(temporary, cached)
        return File(urls.images_zip(article.url, record.slug), 0, 0, cached.stat().st_size, "application/zip", cached)


def _credits(article, files: ImageFiles, catalogs: Path, site_url: str) -> str:
    """Which file is which picture, its caption and the credit to print with it, in the release's language."""
    record = article.record
    lang = record.lang
    lines = [record.title, f"{site_url}/{article.url}", ""]
    for image in record.images:
        credit = i18n.gettext(catalogs, lang, "Photo: %(photographer)s, %(licence)s") % {
            "photographer": image.photographer,
            "licence": image.licence,
        }
        lines += [_zip_name(image, files), image.caption.get(lang) or image.alt.get(lang, ""), credit, ""]
    for video in record.videos:
        credit = i18n.gettext(catalogs, lang, "Video: %(credit)s, %(licence)s") % {
            "credit": video.credit,
            "licence": video.licence,
        }
        lines += [video.filename, video.title.get(lang, ""), video.caption.get(lang, ""), credit, ""]
    return "\n".join(lines)


def _zip_name(image: ImageAsset, files: ImageFiles) -> str:
    return image.id + Path(files.of(image)["print"].url).suffix


def _place(source: Path, target: Path) -> None:
    """Put a cached file into the output: a hard link where the file systems allow it, else a copy; unchanged ones stay."""
    if target.exists():
        if os.path.samefile(source, target):
            return
        same = target.stat()
        if same.st_size == source.stat().st_size and same.st_mtime_ns == source.stat().st_mtime_ns:
            return
        target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _remove_others(folder: Path, keep: set[Path]) -> None:
    """The images folder holds only this build's files: a picture that stopped being public leaves with it."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path not in keep:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
