"""Images: derivatives, privacy and credit, pages and the media bank, release ZIPs, the cache and bad pictures."""

from __future__ import annotations

import io
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageDraw

from newsroom.build.run import BuildOptions, build, load_settings
from newsroom.content.catalog import ContentError, load_catalog
from newsroom.media import images
from sitebuilder import ROOT, Site, build_site, release, write_content

TZ = ZoneInfo("Europe/Helsinki")
NOW = "2026-06-01T12:00+03:00"
ARTIST, COPYRIGHT, ORIENTATION, GPS_IFD, EXIF_IFD, BODY_SERIAL, MAKE = (
    0x013B,
    0x8298,
    0x0112,
    0x8825,
    0x8769,
    0xA431,
    0x010F,
)
PHOTOGRAPHER = "Jäämeri Fotografi"


def card(name: str, photographer: str = PHOTOGRAPHER) -> str:
    return (
        f"alt:\n  fi: Kuva {name}\n  sv: Bild {name}\n  en: Picture {name}\n"
        f"caption:\n  fi: Kuvateksti {name}\n  sv: Bildtext {name}\n"
        f"photographer: {photographer}\nlicence: CC BY 4.0\n"
    )


def photo(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A picture with a red block in its top left corner, so rotation shows."""
    picture = Image.new("RGB", size, (40, 90, 160))
    ImageDraw.Draw(picture).rectangle((0, 0, size[0] // 4, size[1] // 4), fill=(230, 20, 20))
    return picture.convert(mode) if mode != "RGB" else picture


def save_pictures(folder: Path) -> None:
    exif = Image.Exif()
    exif[MAKE] = "Kamera Oy"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (60.0, 10.0, 5.0), 3: "E", 4: (24.0, 56.0, 1.0)})
    exif.get_ifd(EXIF_IFD)[BODY_SERIAL] = "SN-123456"
    photo((3200, 2000)).save(
        folder / "gps-photo.jpg",
        exif=exif,
        comment=b"shot at the secret place",
        xmp=b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>secret place</x:xmpmeta>",
    )
    rotated = Image.Exif()
    rotated[ORIENTATION] = 6  # shown turned 90 degrees clockwise
    photo((600, 400)).save(folder / "rotated.jpg", exif=rotated)
    Image.new("CMYK", (800, 600), (0, 255, 255, 0)).save(folder / "cmyk.jpg")  # red in CMYK
    Image.new("I;16", (500, 400), 128 * 257).save(folder / "grey16.png")  # mid grey in 16 bits
    transparent = Image.new("RGBA", (700, 500), (0, 128, 0, 128))
    transparent.save(folder / "transparent.png")
    photo((300, 200)).save(folder / "tiny.jpg")
    photo((1000, 800)).save(folder / "secret-photo.jpg")
    photo((400, 500)).save(folder / "portrait.jpg")


PICS = "gps-photo, rotated, cmyk, grey16, transparent, tiny"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    root = tmp_path_factory.mktemp("images")
    releases = {
        "pics.fi.md": release("Kuvatiedote", "2026-01-10 12:00", release_id="pics", Images=PICS),
        "pics.sv.md": release("Bildmeddelande", "2026-01-10 12:00", lang="sv", release_id="pics", Images="gps-photo"),
        "plain.fi.md": release("Kuvaton uutinen", "2026-02-10 12:00", release_id="plain", kind="news"),
        "secret.fi.md": release("Salainen kuvatiedote", "2026-12-01 09:00", release_id="secret", Images="secret-photo"),
    }
    extra = {f"images/{name}.yaml": card(name) for name in [*PICS.split(", "), "secret-photo", "portrait"]}
    extra["contacts/kuvaaja.yaml"] = (
        'name: Kaisa Kuvaaja\ntitle: valokuvaaja\nphone: "+358 40 555 0199"\n'
        "email: kaisa.kuvaaja@testila.example\nphoto: portrait\n"
    )
    content = write_content(root / "content", releases, extra)
    save_pictures(content / "images")
    return build_site(content, root / "output", now=NOW)


def derivative(site: Site, image_id: str, label: str, ext: str) -> Image.Image:
    return Image.open(site.output / "images" / image_id / f"{image_id}-{label}.{ext}")


# --- derivatives ------------------------------------------------------------------------------


def test_every_public_image_gets_widths_share_thumbnail_print_and_original(site):
    for width in (480, 960, 1600):
        for ext in ("webp", "jpg"):
            with derivative(site, "gps-photo", str(width), ext) as made:
                assert made.size == (width, round(2000 * width / 3200))
                assert made.format == {"webp": "WEBP", "jpg": "JPEG"}[ext]
    with derivative(site, "gps-photo", "share", "jpg") as share:
        assert share.size == (1200, 630)
    with derivative(site, "gps-photo", "thumb", "webp") as thumb:
        assert thumb.size == (480, 320)
    with derivative(site, "gps-photo", "print", "jpg") as printed:
        assert printed.size == (3000, 1875)
    with Image.open(site.output / "images/gps-photo.jpg") as original:
        assert original.size == (3200, 2000)


def test_small_images_are_never_upscaled(site):
    folder = site.output / "images" / "tiny"
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".webp") == [
        "tiny-300.webp",
        "tiny-square.webp",
        "tiny-thumb.webp",
        "tiny-thumb160.webp",
        "tiny-thumb320.webp",
    ]
    for path in folder.iterdir():
        with Image.open(path) as made:
            assert made.width <= 300 and made.height <= 200, path.name
    with derivative(site, "tiny", "share", "jpg") as share:
        assert share.size == (300, 158)  # the 1200 x 630 shape, cut from the picture without enlarging


def test_exif_orientation_is_applied(site):
    with derivative(site, "rotated", "400", "jpg") as made:
        assert made.size == (400, 600)
        red, blue = made.getpixel((390, 10)), made.getpixel((10, 10))
    assert red[0] > 200 and red[2] < 60, red  # the stored top left corner is now top right
    assert blue[2] > 120, blue
    assert images.inspect(site.content / "images/rotated.jpg") == (400, 600)


def test_cmyk_and_16_bit_pictures_become_srgb(site):
    with derivative(site, "cmyk", "480", "jpg") as made:
        assert made.mode == "RGB"
        r, g, b = made.getpixel((10, 10))
    assert r > 230 and g < 30 and b < 30
    with derivative(site, "grey16", "480", "webp") as made:
        assert made.mode == "RGB"
        assert all(abs(channel - 128) <= 3 for channel in made.getpixel((10, 10)))  # scaled, not clipped to white


def test_transparency_is_kept_where_the_format_allows(site):
    with derivative(site, "transparent", "480", "webp") as made:
        assert made.mode == "RGBA" and abs(made.getpixel((5, 5))[3] - 128) <= 2
    with derivative(site, "transparent", "480", "png") as fallback:  # PNG, not JPEG, for the fallback
        assert fallback.mode == "RGBA" and abs(fallback.getpixel((5, 5))[3] - 128) <= 2
    with derivative(site, "transparent", "print", "png") as printed:
        assert printed.mode == "RGBA" and printed.getexif()[ARTIST].encode("latin-1").decode() == PHOTOGRAPHER
    assert not (site.output / "images/transparent/transparent-480.jpg").exists()


# --- privacy and credit -----------------------------------------------------------------------


def test_gps_serial_camera_and_xmp_are_stripped_from_every_file(site):
    with Image.open(site.content / "images/gps-photo.jpg") as source:  # the test picture does have them
        assert source.getexif().get_ifd(GPS_IFD) and source.getexif().get_ifd(EXIF_IFD)[BODY_SERIAL] == "SN-123456"
    for path in (site.output / "images/gps-photo").iterdir():
        with Image.open(path) as made:
            exif = made.getexif()
            assert not exif.get_ifd(GPS_IFD) and not exif.get_ifd(EXIF_IFD) and MAKE not in exif, path.name
            assert b"secret place" not in path.read_bytes(), path.name
    original = site.output / "images/gps-photo.jpg"
    assert b"secret place" not in original.read_bytes() and b"SN-123456" not in original.read_bytes()
    with Image.open(original) as kept:
        assert not kept.getexif().get_ifd(GPS_IFD) and MAKE not in kept.getexif()


def test_web_files_carry_no_metadata_and_downloads_carry_the_credit(site):
    for name in ("gps-photo-960.jpg", "gps-photo-960.webp", "gps-photo-thumb.jpg", "gps-photo-share.jpg"):
        with Image.open(site.output / "images/gps-photo" / name) as made:
            assert not made.getexif() and "xmp" not in made.info, name
    for path in (site.output / "images/gps-photo/gps-photo-print.jpg", site.output / "images/gps-photo.jpg"):
        with Image.open(path) as download:
            exif = download.getexif()
            assert exif[ARTIST].encode("latin-1").decode() == PHOTOGRAPHER  # UTF-8 bytes, as ExifTool reads them
            assert exif[COPYRIGHT] == "CC BY 4.0"
            xmp = download.info["xmp"].decode()
            assert f"<dc:creator><rdf:Seq><rdf:li>{PHOTOGRAPHER}</rdf:li>" in xmp and "CC BY 4.0" in xmp


def test_stripped_original_keeps_its_pixels_and_orientation(site):
    for name in ("gps-photo.jpg", "rotated.jpg", "grey16.png", "transparent.png"):
        with Image.open(site.content / "images" / name) as source, Image.open(site.output / "images" / name) as kept:
            assert (kept.format, kept.mode, kept.size) == (source.format, source.mode, source.size), name
            assert kept.getexif().get(ORIENTATION, 1) == source.getexif().get(ORIENTATION, 1)
            assert kept.tobytes() == source.tobytes(), name  # decoded pixels identical: nothing re-encoded


# --- pages -----------------------------------------------------------------------------------


def test_release_page_uses_picture_srcset_sizes_and_credits(site):
    page = site.html("fi/releases/kuvatiedote/")
    lead = page.select_one(".release__lead-image")
    source, img = lead.select_one("picture source"), lead.select_one("picture img")
    assert source["type"] == "image/webp" and source["sizes"]
    assert source["srcset"] == (
        "/images/gps-photo/gps-photo-480.webp 480w, /images/gps-photo/gps-photo-720.webp 720w, "
        "/images/gps-photo/gps-photo-960.webp 960w, /images/gps-photo/gps-photo-1600.webp 1600w"
    )
    assert img["srcset"].endswith("/images/gps-photo/gps-photo-1600.jpg 1600w") and img["sizes"] == source["sizes"]
    assert (img["width"], img["height"], img["alt"]) == ("1600", "1000", "Kuva gps-photo")
    assert "loading" not in img.attrs and img["fetchpriority"] == "high"
    assert (
        "Kuvateksti gps-photo" in lead.figcaption.get_text()
        and f"Kuva: {PHOTOGRAPHER}, CC BY 4.0" in lead.figcaption.get_text()
    )
    grid = page.select(".release__images .image-grid > li")
    assert len(grid) == 6
    for item in grid:
        img = item.select_one("picture img")
        assert img["loading"] == "lazy" and img["width"] and img["height"] and img["alt"].startswith("Kuva ")
        assert "Kuva: " in item.figcaption.get_text()
    downloads = [
        (a["href"], a.find_parent("li").select_one(".file-info").get_text()) for a in grid[0].select("a.download")
    ]
    assert [href for href, _ in downloads] == ["/images/gps-photo/gps-photo-print.jpg", "/images/gps-photo.jpg"]
    assert downloads[0][1].startswith("(JPEG, 3000 × 1875 px, ") and downloads[1][1].startswith(
        "(JPEG, 3200 × 2000 px, "
    )
    assert [a.get_text() for a in grid[0].select("a.download")] == ["Lataa painolaatuisena", "Lataa alkuperäinen"]
    assert grid[0].select_one("a.download")["aria-describedby"] == grid[0].figcaption["id"]


def test_alt_text_and_caption_follow_the_page_language(site):
    page = site.html("sv/releases/bildmeddelande/")
    img = page.select_one(".release__lead-image img")
    assert img["alt"] == "Bild gps-photo"
    assert "Foto: " in page.select_one(".release__lead-image figcaption").get_text()


def test_listings_show_a_thumbnail_of_the_lead_image(site):
    cards = {
        card.select_one(".release-card__title").get_text(strip=True): card
        for card in site.html("fi/").select(".release-card")
    }
    thumb = cards["Kuvatiedote"].select_one(".release-card__image picture img")
    assert thumb["src"] == "/images/gps-photo/gps-photo-thumb.jpg" and (thumb["width"], thumb["height"]) == (
        "480",
        "320",
    )
    assert thumb["alt"] == ""  # the title next to it says what the release is
    assert cards["Kuvaton uutinen"].select_one("picture") is None


def test_contact_card_photo_is_a_small_square(site):
    photo_img = site.html("fi/contacts/").select_one(".contact-card__photo")
    assert photo_img["src"] == "/images/portrait/portrait-square.jpg"
    assert "portrait-square.webp 256w" in photo_img.find_parent("picture").source["srcset"]


# --- media bank and ZIP ----------------------------------------------------------------------


def test_media_bank_lists_every_public_image_with_credit_uses_and_downloads(site):
    page = site.html("fi/media/")
    items = page.select(".media-bank__item:not([data-kind=logo])")
    shown = [item.select_one("img")["src"].split("/")[2] for item in items]
    assert [item["data-kind"] for item in items] == ["photo"] * 6 + ["portrait"]
    assert page.select_one(".media-bank__item[data-kind=logo] a.download")["href"] == "/logo.svg"
    assert shown == ["gps-photo", "rotated", "cmyk", "grey16", "transparent", "tiny", "portrait"]
    first = items[0]
    assert f"Kuva: {PHOTOGRAPHER}, CC BY 4.0" in first.figcaption.get_text()
    assert [a["href"] for a in first.select(".media-bank__uses a")] == ["/fi/releases/kuvatiedote/"]
    assert first.select("a.download") and "px" in first.select_one(".file-info").get_text()
    assert "Kaisa Kuvaaja" in items[-1].get_text()
    assert site.html("fi/").select_one('.site-nav a[href="/fi/media/"]').get_text() == "Kuvapankki"
    assert site.html("en/media/").select_one("h1").get_text() == "Media bank"


def test_images_of_unpublished_or_unused_pictures_are_nowhere(site):
    names = [str(path.relative_to(site.output)) for path in site.files()]
    assert not [name for name in names if "secret-photo" in name or "red-square" in name]
    for path in site.output.rglob("*.html"):
        assert "secret-photo" not in path.read_text(encoding="utf-8"), path


def test_release_zip_holds_its_print_files_and_credits(site):
    link = site.html("fi/releases/kuvatiedote/").select_one(".release__zip a")
    assert link["href"] == "/fi/releases/kuvatiedote/kuvatiedote.zip"
    with zipfile.ZipFile(site.output / link["href"].lstrip("/")) as archive:
        assert archive.namelist() == [
            "gps-photo.jpg",
            "rotated.jpg",
            "cmyk.jpg",
            "grey16.jpg",
            "transparent.png",
            "tiny.jpg",
            "credits.txt",
        ]
        assert {info.date_time for info in archive.infolist()} == {(2026, 1, 10, 12, 0, 0)}
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}
        credits = archive.read("credits.txt").decode()
        with Image.open(io.BytesIO(archive.read("rotated.jpg"))) as rotated:
            assert rotated.size == (400, 600)
    assert (
        credits.startswith("Kuvatiedote\n")
        and f"gps-photo.jpg\nKuvateksti gps-photo\nKuva: {PHOTOGRAPHER}, CC BY 4.0" in credits
    )
    with zipfile.ZipFile(site.output / "sv/releases/bildmeddelande/bildmeddelande.zip") as archive:
        assert (
            archive.namelist() == ["gps-photo.jpg", "credits.txt"] and "Foto: " in archive.read("credits.txt").decode()
        )


# --- the cache ---------------------------------------------------------------------------------


def _build(content: Path, output: Path, cache: Path, **settings) -> None:
    """Build with its own image cache (the environment variable, like a deployment, so it wins over settings)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEWSROOM_IMAGE_CACHE", str(cache))
        loaded = load_settings(BuildOptions(ROOT / "pelicanconf.py", content, output, NOW))
        build({**loaded, **settings})


def _snapshot(folder: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()}


def test_unchanged_images_are_not_decoded_again_and_changed_ones_are(tmp_path):
    releases = {"one.fi.md": release("Yksi", "2026-01-10 12:00", release_id="one", Images="first, second")}
    extra = {"images/first.yaml": card("first"), "images/second.yaml": card("second")}
    content = write_content(tmp_path / "content", releases, extra)
    photo((900, 600)).save(content / "images/first.jpg")
    photo((600, 900)).save(content / "images/second.jpg")
    cache, output = tmp_path / "cache", tmp_path / "output"

    before = images.stats.decoded
    _build(content, output, cache)
    assert images.stats.decoded - before == 2
    cached, placed = _snapshot(cache), _snapshot(output / "images")
    zip_path = output / "fi/releases/yksi/yksi.zip"
    zipped = zip_path.read_bytes()

    before, written = images.stats.decoded, images.stats.written
    _build(content, output, cache)
    assert (images.stats.decoded, images.stats.written) == (before, written)  # nothing decoded, nothing written
    assert _snapshot(cache) == cached and _snapshot(output / "images") == placed

    shutil.rmtree(cache / "zip")
    _build(content, output, cache)
    assert zip_path.read_bytes() == zipped  # the ZIP is built the same way every time

    photo((900, 600)).rotate(180).save(content / "images/first.jpg")  # new bytes for one source
    before = images.stats.decoded
    _build(content, output, cache)
    assert images.stats.decoded - before == 1

    (content / "images/second.yaml").write_text(card("second", photographer="Toinen Kuvaaja"), encoding="utf-8")
    before, written = images.stats.decoded, images.stats.written
    _build(content, output, cache)
    assert images.stats.written - written == 2  # only the print file and the original carry the credit
    with Image.open(output / "images/second.jpg") as original:
        assert original.getexif()[ARTIST] == "Toinen Kuvaaja"

    _build(content, tmp_path / "as-is", cache, NEWSROOM_IMAGE_ORIGINAL="as-is")
    assert (tmp_path / "as-is/images/first.jpg").read_bytes() == (content / "images/first.jpg").read_bytes()


def test_sample_images_are_made_in_every_size(sample_site):
    made = 0
    for entry in sample_site.html("fi/media/").select(
        ".media-bank__item[data-kind=photo], .media-bank__item[data-kind=portrait]"
    ):
        image_id = entry.select_one("img")["src"].split("/")[2]
        with Image.open(next((sample_site.content / "images").glob(f"{image_id}.[jpw]*"))) as source:
            width, height = source.size
        for size in (480, 960, 1600):
            label = min(size, width)
            with derivative(sample_site, image_id, str(label), "webp") as web:
                assert web.size == (label, round(height * label / width))
        made += 1
    assert made >= 5


# --- bad pictures ------------------------------------------------------------------------------


def _png(width: int, height: int, idat: bytes) -> bytes:
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    names = ["good", "truncated", "text", "bomb", "absurd", "tiff", "renamed", "broken", "nocard"]
    content = write_content(
        tmp_path_factory.mktemp("bad") / "content",
        {"bad.fi.md": release("Huonot kuvat", "2026-01-10 12:00", release_id="bad", Images="good, broken")},
        {f"images/{name}.yaml": card(name) for name in names if name != "nocard"},
    )
    folder = content / "images"
    photo((400, 300)).save(folder / "good.jpg")
    buffer = io.BytesIO()
    photo((400, 300)).save(buffer, "JPEG")
    (folder / "truncated.jpg").write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    (folder / "text.jpg").write_text("This is a note, not a photo.\n")
    (folder / "bomb.png").write_bytes(_png(20_000, 20_000, zlib.compress(b"")))
    Image.new("L", (12_000, 100)).save(folder / "absurd.png")
    Image.new("F", (10, 10)).save(folder / "tiff.png", "TIFF")
    photo((40, 30)).save(folder / "renamed.webp", "JPEG")
    (folder / "broken.png").write_bytes(_png(40, 30, b"this is not zlib data"))  # every checksum right
    photo((40, 30)).save(folder / "nocard.jpg")
    return content


@pytest.fixture(scope="module")
def bad_problems(bad) -> dict[str, str]:
    catalog = load_catalog(bad, TZ)
    assert sorted(catalog.images) == ["broken", "good", "red-square"]  # the others were all checked, each on its own
    return {problem.path.name: problem.message for problem in catalog.problems}


@pytest.mark.parametrize(
    "name, words",
    [
        ("truncated.jpg", "is cut short"),
        ("text.jpg", "is not a JPEG, PNG or WebP picture (it looks like text)"),
        ("bomb.png", "has 400 megapixels, more than the 64 megapixels a press photo needs"),
        ("absurd.png", "is 12000 × 100 px"),
        ("tiff.png", "is a TIFF picture in colour mode F; the newsroom takes JPEG, PNG and WebP"),
        ("renamed.webp", "is a JPEG picture though its name says WebP; rename it to renamed.jpg"),
        ("nocard.jpg", "has no sidecar nocard.yaml"),
    ],
)
def test_bad_pictures_are_named_with_what_to_do(bad_problems, name, words):
    assert words in bad_problems[name], bad_problems


def test_a_picture_that_fails_to_decode_stops_the_build_naming_it_after_the_others_are_made(bad, tmp_path):
    catalog = load_catalog(bad, TZ)
    derived, problems = images.derive([catalog.images["broken"], catalog.images["good"]], tmp_path / "cache")
    assert list(derived) == ["good"]
    assert [(p.path.name, p.message.split(" (")[0]) for p in problems] == [("broken.png", "cannot be read to the end")]
    assert list((tmp_path / "cache").rglob("*.webp"))
    content = shutil.copytree(bad, tmp_path / "content")
    for path in (content / "images").iterdir():
        if path.stem not in ("good", "broken"):
            path.unlink()
    with pytest.raises(ContentError) as caught:
        _build(content, tmp_path / "output", tmp_path / "cache")
    assert [str(p.path.name) for p in caught.value.problems] == ["broken.png"]
