"""`make bench-images`: how long image derivatives take for a corpus of camera-sized photos: cold (empty cache),
warm (nothing changed) and with one photo changed; also what the content check costs per build.

The photos are generated once (gradients, noise and shapes, so JPEG sizes are like real photos) and kept in
var/bench-images; each is different, so the content-hash cache cannot share work between them.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from newsroom.core import workers
from newsroom.core.model import ImageAsset
from newsroom.media import images
from newsroom.media.images import inspect

ROOT = Path(__file__).resolve().parents[2]


def base_photo(width: int, height: int, seed: int) -> Image.Image:
    """Something that compresses like a photo: a colour gradient, soft noise, some hard edges."""
    sky = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width // 4, height // 4), 40 + seed % 30).resize(
        (width, height), Image.Resampling.BILINEAR
    )
    picture = Image.merge("RGB", (sky, noise, sky.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
    draw = ImageDraw.Draw(picture)
    for i in range(12):
        x, y = (seed * 97 + i * 331) % width, (seed * 53 + i * 211) % height
        draw.rectangle((x, y, x + width // 8, y + height // 10), fill=((i * 40) % 256, 90, (seed * 30) % 256))
    return picture.filter(ImageFilter.GaussianBlur(1))


def write_corpus(folder: Path, count: int, megapixels: float) -> list[Path]:
    width = int((megapixels * 1e6 * 4 / 3) ** 0.5)
    height = width * 3 // 4
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo-{n:03d}.jpg" for n in range(count)]
    missing = [p for p in paths if not p.exists() or Image.open(p).size != (width, height)]
    bases = [base_photo(width, height, seed) for seed in range(min(8, len(missing)))]
    for n, path in enumerate(missing):
        picture = bases[n % len(bases)].copy()
        ImageDraw.Draw(picture).rectangle((10 + n, 10, 60 + n, 60), fill=(255, n % 256, 0))  # each one different
        picture.save(path, quality=90)
    return paths


def asset(path: Path) -> ImageAsset:
    width, height = inspect(path)
    return ImageAsset(
        path.stem, path, width, height, path.stat().st_size, {"en": path.stem}, {}, "Bench Photographer", "CC BY 4.0"
    )


def timed(label: str, action) -> tuple[str, float, int]:
    decoded = images.stats.decoded
    started = time.perf_counter()
    action()
    return label, time.perf_counter() - started, images.stats.decoded - decoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--megapixels", type=float, default=12)
    parser.add_argument("--folder", type=Path, default=ROOT / "var" / "bench-images")
    args = parser.parse_args()
    started = time.perf_counter()
    paths = write_corpus(args.folder / "photos", args.count, args.megapixels)
    print(
        f"{len(paths)} photos of {args.megapixels:g} MP in {args.folder / 'photos'} "
        f"({sum(p.stat().st_size for p in paths) / 1e6:.0f} MB; ready in {time.perf_counter() - started:.0f} s)"
    )
    cache = args.folder / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    assets: list[ImageAsset] = []
    rows = [timed("content check (every build)", lambda: assets.extend(asset(p) for p in paths))]
    rows.append(timed("cold: empty cache", lambda: images.derive(assets, cache)))
    rows.append(timed("warm: nothing changed", lambda: images.derive(assets, cache)))
    base_photo(*Image.open(paths[0]).size, seed=99).save(paths[0], quality=90)
    assets[0] = asset(paths[0])
    rows.append(timed("one photo changed", lambda: images.derive(assets, cache)))
    print(f"\n{'step':<30} {'seconds':>8} {'decoded':>8} {'per photo':>10}")
    for label, seconds, decoded in rows:
        print(f"{label:<30} {seconds:8.2f} {decoded:8d} {seconds / len(paths) * 1000:8.0f} ms")
    files = sum(1 for p in cache.rglob("*") if p.is_file())
    print(
        f"\n{files} files in the cache, {sum(p.stat().st_size for p in cache.rglob('*') if p.is_file()) / 1e6:.0f} MB; "
        f"{workers.cores()} worker processes"
    )


if __name__ == "__main__":
    main()
