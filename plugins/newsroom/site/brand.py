"""The publisher's brand files in the site: the logo (with its size, so pages reserve its room), the raster logo,
the square icon with the /favicon.ico browsers ask for, and the share image for link previews."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from pelican.generators import Generator
from PIL import Image

from newsroom.build import staging
from newsroom.core import urls
from newsroom.core.model import Publisher
from newsroom.media import images

BRAND_KEY = "brand"
FAVICON_SIZES = ((16, 16), (32, 32), (48, 48))
HEADER_LOGO_HEIGHT = 44  # px, as the site header shows it
RASTER_SUFFIXES = (".png", ".jpg", ".jpeg")


@dataclass(frozen=True)
class BrandFile:
    """One brand file as served: its address in the site and its pixel size."""

    url: str
    width: int
    height: int
    source: Path


@dataclass(frozen=True)
class Brand:
    logo: BrandFile | None
    logo_raster: BrandFile | None
    icon: BrandFile | None
    share_image: BrandFile | None

    @property
    def header_logo_width(self) -> int:
        """The logo's width when the header shows it 44 px high."""
        return round(self.logo.width * HEADER_LOGO_HEIGHT / self.logo.height) if self.logo else 0


def svg_size(path: Path) -> tuple[int, int]:
    """An SVG's intrinsic size: its width and height in px, else its viewBox."""
    root = etree.parse(str(path)).getroot()
    width, height = (re.fullmatch(r"\s*([\d.]+)(?:px)?\s*", root.get(key) or "") for key in ("width", "height"))
    if width and height:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = (root.get("viewBox") or "0 0 300 150").replace(",", " ").split()
    return round(float(box[2])), round(float(box[3]))


def _file(path: Path | None) -> BrandFile | None:
    if path is None:
        return None
    width, height = svg_size(path) if path.suffix.lower() == ".svg" else images.inspect(path)
    return BrandFile(path.name, width, height, path)


def brand_of(publisher: Publisher | None) -> Brand:
    """The publisher's files; a logo that is itself a PNG or JPEG is also the raster logo, unless one is given."""
    if publisher is None:
        return Brand(None, None, None, None)
    logo = publisher.logo
    raster = publisher.logo_raster or (logo if logo and logo.suffix.lower() in RASTER_SUFFIXES else None)
    return Brand(*(_file(p) for p in (logo, raster, publisher.icon, publisher.share_image)))


def favicon(icon: Path) -> bytes:
    """An .ico with 16, 32 and 48 px versions of the square icon."""
    with Image.open(icon) as opened:
        picture = images.to_srgb(opened.convert("RGBA") if "transparency" in opened.info else opened)
        buffer = io.BytesIO()
        picture.save(buffer, "ICO", sizes=FAVICON_SIZES)
    return buffer.getvalue()


class BrandGenerator(Generator):
    """Runs first: pages and feeds read the brand's sizes from the context."""

    def generate_context(self) -> None:
        self.brand = brand_of(self.context.get("publisher"))
        self.context[BRAND_KEY] = self.brand

    def generate_output(self, writer) -> None:
        out = Path(self.output_path)
        brand = self.brand
        for file in (brand.logo_raster, brand.icon, brand.share_image):
            if file:
                staging.write(out / file.url, file.source.read_bytes())
        if brand.icon:
            staging.write(out / urls.FAVICON, favicon(brand.icon.source))
