"""Image derivatives: named recipes for web, share, listing and download files, made with Pillow once per
source and recipe, kept in a content-hash cache, the work spread over the machine's cores in one pool."""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageCms, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from newsroom.core import urls, workers
from newsroom.core.model import ImageAsset, Problem
from newsroom.media import imagemeta
from newsroom.media.imagemeta import DamagedFile

# Part of every cache key: bump it when the code makes any file differently, and every file is made again.
VERSION = "2"
WIDTHS = (480, 720, 960, 1600)  # 720: a one-column slot on a phone at 2x
THUMB_WIDTHS = (160, 320)
SEARCH_RATIOS = ((16, 9), (4, 3), (1, 1))
EMAIL_WIDTH = 592
PRINT_LONG_SIDE = 3000
MAX_SIDE = 20_000  # px on the longer side: beyond any page or print, a scan or a mistake
MAX_RATIO = 20  # a picture longer than this many times its width cannot be shown or cropped usefully
# A press photo needs the full frame of a high-resolution camera (61 MP, 9504 x 6336), far beyond A3 print at 300 dpi
# (17 MP) and the 3000 px print file made from it; decoded, 64 MP of RGBA is 256 MB. Pillow's own cap (179 MP) lets
# a 21 KB PNG of one colour take 1.6 GB.
MAX_PIXELS = 64_000_000
ORIGINAL = "original"
KEEP_DAYS = 30  # a cached file no build has used for this long is deleted
ORIGINAL_MODES = ("stripped", "as-is")
FORMATS = {"JPEG": ("jpg", "image/jpeg"), "PNG": ("png", "image/png"), "WEBP": ("webp", "image/webp")}
# What Pillow calls a format we take, and what the writer knows it as.
READABLE = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
SUFFIXES = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WebP"}
ORIENTATION = 0x0112
KINDS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "application/zip": "ZIP",
    "video/mp4": "MP4",
    "video/webm": "WebM",
    "text/vtt": "WebVTT",
}
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
# Modes whose pixels are values to average (a palette's are indexes; 16 bits are turned to 8 first, in to_srgb).
_REDUCIBLE = ("L", "LA", "RGB", "RGBA", "CMYK")
# How to turn a picture stored with an EXIF orientation upright (as ImageOps.exif_transpose does).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class BadImage(ValueError):
    """A picture that cannot be published; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class Recipe:
    """A named derivative; templates ask for files by these names ("w960.webp", "thumb", "print")."""

    name: str
    label: str | None  # in the file name; None means the width in pixels
    webp: bool = False  # WebP, else JPEG (PNG when the picture has transparency)
    width: int | None = None  # scale to this width
    box: tuple[int, int] | None = None  # crop to fill this box
    long_side: int | None = None  # scale so that the longer side is at most this
    quality: int = 80
    credit: bool = False  # a download: photographer and licence in its metadata, sRGB profile embedded

    def size(self, width: int, height: int) -> tuple[int, int]:
        """The size made from a picture of this size: never larger than the picture."""
        if self.box:
            box_w, box_h = self.box
            crop = _crop(width, height, box_w / box_h)
            crop_w, crop_h = crop[2] - crop[0], crop[3] - crop[1]
            return self.box if crop_w >= box_w else (max(1, round(crop_w)), max(1, round(crop_h)))
        scale = min(1.0, self.width / width if self.width else self.long_side / max(width, height))
        return max(1, round(width * scale)), max(1, round(height * scale))


RECIPES: dict[str, Recipe] = {
    recipe.name: recipe
    for recipe in (
        *(Recipe(f"w{w}.webp", None, True, width=w, quality=78) for w in WIDTHS),
        *(Recipe(f"w{w}", None, width=w, quality=82) for w in WIDTHS),
        Recipe("thumb.webp", "thumb", True, box=(480, 320), quality=78),
        Recipe("thumb", "thumb", box=(480, 320), quality=82),
        Recipe("square.webp", "square", True, box=(256, 256), quality=78),
        Recipe("square", "square", box=(256, 256), quality=82),
        Recipe("share", "share", box=(1200, 630), quality=85),
        # The ratios search engines show an article's image in (Google: 16:9, 4:3 and 1:1, at least 1200 px wide).
        *(Recipe(f"ratio-{w}x{h}", f"{w}x{h}", box=(1200, 1200 * h // w), quality=82) for w, h in SEARCH_RATIOS),
        # Small thumbnails for the 6-10 rem slot of a listing card (160 px at 1x, 320 px at 2x).
        *(Recipe(f"thumb{w}", f"thumb{w}", box=(w, w * 2 // 3), quality=82) for w in THUMB_WIDTHS),
        *(Recipe(f"thumb{w}.webp", f"thumb{w}", True, box=(w, w * 2 // 3), quality=78) for w in THUMB_WIDTHS),
        # Email: the lead image at the 592 px an email column holds.
        Recipe("email", "email", width=EMAIL_WIDTH, quality=80),  # named apart: a small picture has one width
        Recipe("print", "print", long_side=PRINT_LONG_SIDE, quality=92, credit=True),
    )
}
# Recipe families a <picture> draws its srcset from.
FAMILIES = {
    "w": [f"w{w}" for w in WIDTHS],
    "thumb": [*(f"thumb{w}" for w in THUMB_WIDTHS), "thumb"],
    "square": ["square"],
}


# --- checking a source ----------------------------------------------------------------------


def inspect(path: Path) -> tuple[int, int]:
    """The picture's size as shown (EXIF orientation applied), after checking it without decoding its pixels.

    Raises BadImage for a file that is not a JPEG, PNG or WebP picture, is cut short or damaged in its
    structure, has more pixels than Pillow opens safely, or has absurd dimensions.
    """
    data = path.read_bytes()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # MAX_PIXELS, below, is the limit
            with Image.open(io.BytesIO(data)) as opened:
                fmt, mode, (width, height) = opened.format, opened.mode, opened.size
                orientation = _orientation(opened)
    except Image.DecompressionBombError as exc:
        raise BadImage(_too_many_pixels(exc)) from None
    except UnidentifiedImageError:
        looks = "it looks like text" if _is_text(data) else "its first bytes are not those of a picture"
        raise BadImage(
            f"is not a JPEG, PNG or WebP picture ({looks}); export the picture again and save it over this file"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadImage(f"is damaged ({exc}); export the picture again as JPEG, PNG or WebP") from None
    if fmt not in READABLE:
        raise BadImage(
            f"is a {fmt} picture in colour mode {mode}; the newsroom takes JPEG, PNG and WebP "
            "(RGB, greyscale or CMYK): export it again as one of those"
        )
    named = SUFFIXES[path.suffix.lower()]
    if READABLE[fmt] != named:
        raise BadImage(
            f"is a {READABLE[fmt]} picture though its name says {named}; "
            f"rename it to {path.stem}.{FORMATS[_format(fmt)][0]}"
        )
    try:
        _check_structure(data, fmt)
    except DamagedFile as exc:
        raise BadImage(f"{exc}; copy or export the picture again") from None
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    if width * height > MAX_PIXELS:
        raise BadImage(_too_many(width * height))
    if max(width, height) > MAX_SIDE or max(width, height) > MAX_RATIO * min(width, height):
        raise BadImage(
            f"is {width} × {height} px; a picture may be at most {MAX_SIDE} px on its longer side and at "
            f"most {MAX_RATIO} times as long as it is wide: crop or scale it and export it again"
        )
    return width, height


def _orientation(opened: Image.Image) -> int:
    """The EXIF orientation found without decoding: a PNG's eXIf chunk after its pixel data does not count."""
    if opened.format == "PNG" and "exif" not in opened.info:
        return 1
    return opened.getexif().get(ORIENTATION, 1)


def _format(pillow_format: str) -> str:
    """The format we write a file of this kind in: an MPO (a JPEG with extra frames) is a JPEG."""
    return "JPEG" if pillow_format == "MPO" else pillow_format


def _check_structure(data: bytes, fmt: str) -> None:
    if fmt in ("JPEG", "MPO"):
        imagemeta.jpeg_segments(data)
    elif fmt == "PNG":
        imagemeta.png_chunks(data)
    else:
        imagemeta.webp_chunks(data)


def _too_many_pixels(exc: Exception) -> str:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    if not found:
        return f"has too many pixels to open safely ({exc}); scale it down and export it again"
    return _too_many(int(found.group(1)))


def _too_many(pixels: int) -> str:
    return (
        f"has {pixels / 1e6:.0f} megapixels, more than the {MAX_PIXELS / 1e6:.0f} megapixels a press photo needs "
        "(the full frame of a 61-megapixel camera); scale it down and export it again"
    )


def _is_text(data: bytes) -> bool:
    head = data[:512]
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in head


# --- planning: which files an image gets, and which of them the cache lacks --------------------


@dataclass(frozen=True)
class Output:
    """One file made for one image: what it is called in the site and where the cache keeps it."""

    name: str
    format: str
    width: int
    height: int
    recipe: Recipe | None  # None for the original
    cached: str


@dataclass(frozen=True)
class Job:
    """The files one source still needs; one worker decodes the source once for all of them."""

    image_id: str
    source: str
    photographer: str
    licence: str
    outputs: tuple[Output, ...]


@dataclass(frozen=True)
class Outcome:
    image_id: str
    decoded: bool
    written: int
    error: str | None


@dataclass(frozen=True)
class File:
    """A file of the site made from an image: its address, pixel size, file size and type."""

    url: str
    width: int
    height: int
    size: int
    mime: str
    path: Path  # where its bytes are: the cache, or the source for an original served as-is

    @property
    def kind(self) -> str:
        """The file type as people name it: JPEG, PNG, WebP, ZIP."""
        return KINDS[self.mime]


@dataclass(frozen=True)
class Derived:
    """Every file of one image, by recipe name ("original" included)."""

    image: ImageAsset
    files: dict[str, File]

    def __getitem__(self, recipe: str) -> File:
        return self.files[recipe]

    def family(self, name: str, webp: bool = False) -> list[File]:
        """The distinct files of a recipe family, narrowest first (small pictures share one file for several widths)."""
        files = [self.files[recipe + (".webp" if webp else "")] for recipe in FAMILIES[name]]
        return sorted({f.url: f for f in files}.values(), key=lambda f: f.width)

    def srcset(self, name: str, webp: bool, site_url: str) -> str:
        return ", ".join(f"{site_url}/{f.url} {f.width}w" for f in self.family(name, webp))

    def downloads(self) -> list[tuple[str, File]]:
        """The print file when it is smaller than the original, then the original."""
        original, printed = self.files[ORIGINAL], self.files["print"]
        smaller = printed.width * printed.height < original.width * original.height
        return ([("print", printed)] if smaller else []) + [(ORIGINAL, original)]


def _digest(path: Path) -> str:
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


class Plan:
    """The outputs of one image, keyed by its source bytes and each recipe, so a change to either remakes a file."""

    def __init__(self, image: ImageAsset, cache: Path, original: str):
        self.image, self.cache, self.original = image, cache, original
        self.sha = _digest(image.path)
        with Image.open(image.path) as opened:  # header only
            self.source_format = _format(opened.format)
            alpha = _has_alpha(opened)
        fallback = "PNG" if alpha else "JPEG"
        self.outputs: dict[str, Output] = {}
        for recipe in RECIPES.values():
            fmt = "WEBP" if recipe.webp else fallback
            width, height = recipe.size(image.width, image.height)
            label = recipe.label or str(width)
            self.outputs[recipe.name] = self._output(
                f"{image.id}-{label}.{FORMATS[fmt][0]}", fmt, width, height, recipe
            )
        if original == "stripped":
            self.outputs[ORIGINAL] = self._output(image.filename, self.source_format, image.width, image.height, None)

    def _output(self, name: str, fmt: str, width: int, height: int, recipe: Recipe | None) -> Output:
        credit = (self.image.photographer, self.image.licence) if recipe is None or recipe.credit else ()
        key = hashlib.sha256(repr((VERSION, self.sha, name, fmt, width, height, recipe, credit)).encode()).hexdigest()
        cached = Path(self.cache, self.sha[:2], f"{self.sha}-{key[:16]}.{FORMATS[fmt][0]}")
        return Output(name, fmt, width, height, recipe, str(cached))

    def job(self) -> Job | None:
        missing = {o.cached: o for o in self.outputs.values() if not os.path.exists(o.cached)}
        if not missing:
            return None
        image = self.image
        return Job(image.id, str(image.path), image.photographer, image.licence, tuple(missing.values()))

    def derived(self) -> Derived:
        files = {}
        for recipe, output in self.outputs.items():
            url = urls.image(output.name) if recipe == ORIGINAL else urls.image_file(self.image.id, output.name)
            path = Path(output.cached)
            files[recipe] = File(url, output.width, output.height, path.stat().st_size, FORMATS[output.format][1], path)
        if self.original == "as-is":
            mime = FORMATS[self.source_format][1]
            files[ORIGINAL] = File(
                urls.image(self.image.filename),
                self.image.width,
                self.image.height,
                self.image.size,
                mime,
                self.image.path,
            )
        return Derived(self.image, files)


# --- making: one worker per source, in one pool for the whole build ---------------------------


class Stats:
    """How many sources were decoded and files written, summed over the build's workers (tests read it)."""

    decoded = 0
    written = 0


stats = Stats()


def derive(
    images: list[ImageAsset], cache: Path, original: str = "stripped", processes: int = 0
) -> tuple[dict[str, Derived], list[Problem]]:
    """Make what the cache lacks for these images, then describe every file; a bad image is a Problem, not a stop.

    The work is spread like the rest of the build (`processes` is NEWSROOM_PROCESSES; one while other threads run).
    """
    plans = [Plan(image, cache, original) for image in images]
    jobs = sorted((job for job in (p.job() for p in plans) if job), key=lambda j: -os.path.getsize(j.source))
    failed: dict[str, str] = {}
    for outcome in workers.map_shares(make, jobs, workers.processes(processes, len(jobs), per_process=1)):
        stats.decoded += outcome.decoded
        stats.written += outcome.written
        if outcome.error:
            failed[outcome.image_id] = outcome.error
    problems = [Problem(p.image.path, 0, "", failed[p.image.id]) for p in plans if p.image.id in failed]
    return {p.image.id: p.derived() for p in plans if p.image.id not in failed}, problems


def prune(cache: Path, used: set[Path], days: int = KEEP_DAYS) -> None:
    """Mark the cache files this build used (access time), and delete those no build has used for `days` days."""
    now = time.time_ns()
    for path in used:
        os.utime(path, ns=(now, path.stat().st_mtime_ns))  # the modification time stays: deploys see no change
    for path in cache.rglob("*"):
        if path.is_file() and path not in used and path.stat().st_atime_ns < now - days * 86400 * 10**9:
            path.unlink(missing_ok=True)


def make(job: Job) -> Outcome:
    """Write the job's files into the cache, decoding the source at most once."""
    decoded, written = False, 0
    try:
        with Image.open(job.source) as opened:
            fmt, orientation = opened.format, _orientation(opened)
            pixels = [o for o in job.outputs if o.recipe is not None]
            for output in job.outputs:
                if output.recipe is None:
                    data = Path(job.source).read_bytes()
                    _write(output, imagemeta.stripped(data, fmt, job.photographer, job.licence, orientation))
                    written += 1
            if pixels:
                _draft(opened, pixels, orientation)
                decoded = True
                opened.load()
                picture = _reduced(opened, pixels, orientation)
                render = _Renderer(
                    to_srgb(picture.transpose(_TRANSPOSE[orientation]) if orientation in _TRANSPOSE else picture)
                )
                del picture
                for output in sorted(pixels, key=render.scale, reverse=True):
                    _write(output, _encode(render(output), output, job))
                    written += 1
    except Image.DecompressionBombError as exc:
        return Outcome(job.image_id, decoded, written, _too_many_pixels(exc))
    except (OSError, SyntaxError, ValueError, DamagedFile) as exc:
        return Outcome(
            job.image_id,
            decoded,
            written,
            f"cannot be read to the end ({exc}); copy or export the picture again as JPEG, PNG or WebP",
        )
    return Outcome(job.image_id, decoded, written, None)


def _draft(opened: Image.Image, outputs: list[Output], orientation: int) -> None:
    """Let a JPEG decode at a reduced scale when every output is much smaller (DCT scaling; a no-op for others)."""
    width, height = opened.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    scale = max(_scale(o, width, height) for o in outputs)
    wanted = (round(width * scale), round(height * scale))
    opened.draft(opened.mode, wanted[::-1] if orientation in (5, 6, 7, 8) else wanted)


def _reduced(opened: Image.Image, outputs: list[Output], orientation: int) -> Image.Image:
    """The decoded picture shrunk by a whole factor (box average) while it is still at least 1.5 times the largest
    output's resolution, before the colour conversion and turning copy it: a PNG or WebP, which cannot be decoded
    at a smaller scale as a JPEG can (`_draft`), then costs its decoded size once rather than several times."""
    width, height = opened.size
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    factor = int(1 / (1.5 * max(_scale(o, width, height) for o in outputs)))
    if factor < 2 or opened.mode not in _REDUCIBLE:
        return opened
    reduced = opened.reduce(factor)  # keeps the info (ICC profile, transparency)
    opened.close()
    return reduced


def _region(output: Output, width: float, height: float) -> tuple[float, float, float, float]:
    """The part of a picture of this size an output shows: all of it, or the crop for its box."""
    return _crop(width, height, output.width / output.height) if output.recipe.box else (0, 0, width, height)


def _scale(output: Output, width: float, height: float) -> float:
    """How much of the source's resolution an output uses."""
    left, _, right, _ = _region(output, width, height)
    return output.width / (right - left)


def _crop(width: float, height: float, ratio: float) -> tuple[float, float, float, float]:
    """The largest box of this width/height ratio; a tall picture keeps more of its top, where faces usually are."""
    if width / height > ratio:
        cut = width - height * ratio
        return cut / 2, 0, width - cut / 2, height
    cut = height - width / ratio
    top = cut * (0.35 if height > width else 0.5)
    return 0, top, width, top + height - cut


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in _ALPHA_MODES or "transparency" in image.info


def to_srgb(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the picture has transparency, in sRGB: ICC profiles applied, CMYK and 16 bits handled."""
    icc = image.info.get("icc_profile")
    alpha = None
    if _has_alpha(image):
        image = image.convert("LA" if image.mode in ("LA", "La") else "RGBA")
        alpha = image.getchannel("A")
        image = image.convert("L" if image.mode == "LA" else "RGB")
    elif image.mode.startswith("I"):
        image = image.convert("I").point(lambda v: v / 257).convert("L")  # 16-bit grey: scaled, not clipped
    elif image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")
    converted = None
    if icc:
        try:
            converted = ImageCms.profileToProfile(
                image, ImageCms.ImageCmsProfile(io.BytesIO(icc)), _SRGB, outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            converted = None  # a broken or mismatched profile: the plain conversion below is the best guess
    converted = converted or image.convert("RGB")
    if alpha is not None:
        converted.putalpha(alpha)
    converted.info = {}
    return converted


class _Renderer:
    """Resizes one decoded picture for many outputs: each size once, and small ones from a larger result."""

    def __init__(self, picture: Image.Image):
        self.picture = picture
        self.made: dict[tuple[int, int, bool], Image.Image] = {}
        self.bases = [picture]  # whole-picture results a smaller output can be made from

    def scale(self, output: Output) -> float:
        return _scale(output, *self.picture.size)

    def __call__(self, output: Output) -> Image.Image:
        key = (output.width, output.height, bool(output.recipe.box))
        if key not in self.made:
            self.made[key] = self._render(output)
        return self.made[key]

    def _render(self, output: Output) -> Image.Image:
        width, height = self.picture.size
        # Lanczos from a base at least 1.5 times the output's resolution looks the same as from the full picture.
        wanted = 1.5 * self.scale(output) * width
        base = min((b for b in self.bases if b.width >= wanted), key=lambda b: b.width, default=self.picture)
        left, top, right, bottom = _region(output, width, height)
        across, down = base.width / width, base.height / height
        if base.size == (output.width, output.height) and not output.recipe.box:
            return base
        made = base.resize(
            (output.width, output.height),
            Image.Resampling.LANCZOS,
            box=(left * across, top * down, right * across, bottom * down),
            reducing_gap=3.0,
        )
        if not output.recipe.box:
            self.bases.append(made)
        return made


def _encode(image: Image.Image, output: Output, job: Job) -> bytes:
    """The file's bytes: no metadata at all, except the credit and an sRGB profile in downloads."""
    recipe = output.recipe
    options: dict = {"quality": recipe.quality}
    if output.format == "JPEG":
        options.update(optimize=True, progressive=True)
    elif output.format == "WEBP":
        options.update(method=4)
    else:
        options = {"compress_level": 6}
    if recipe.credit:
        options.update(exif=imagemeta.credit_exif(job.photographer, job.licence), icc_profile=_SRGB.tobytes())
        xmp = imagemeta.credit_xmp(job.photographer, job.licence)
        if output.format == "PNG":
            info = PngInfo()
            info.add_itxt("XML:com.adobe.xmp", xmp.decode())
            options["pnginfo"] = info
        else:
            options["xmp"] = xmp
    buffer = io.BytesIO()
    image.save(buffer, output.format, **options)
    return buffer.getvalue()


def _write(output: Output, data: bytes) -> None:
    """Write through a temporary file, so a build that stops half-way never leaves half a file in the cache."""
    target = Path(output.cached)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, target)
