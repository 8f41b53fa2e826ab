"""content/videos/: each video with its sidecar (<id>.yaml) and a WebVTT captions file per language (<id>.<lang>.vtt).

Captions are required in every language of the newsroom: prerecorded video with sound needs them (WCAG 2.1 AA)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from newsroom.content import paths
from newsroom.core.model import Problem, VideoAsset
from newsroom.media import videos as probing

FIELDS = ("title", "alt", "caption", "credit", "licence", "poster")
POSTER_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
VTT_MAGIC = "WEBVTT"


def load_videos(
    folder: Path, langs: tuple[str, ...], problems: list[Problem], card_of: Callable
) -> dict[str, VideoAsset]:
    """Every video with a valid sidecar and captions; `card_of(path)` reads a sidecar as catalog's YAML cards."""
    found: dict[str, VideoAsset] = {}
    if not folder.is_dir():
        return found
    files = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in probing.SUFFIXES:
            continue
        if paths.inside(folder.parent, path.absolute()) is None:
            problems.append(Problem(path, 0, "", paths.outside_message(path.name, folder.parent)))
        elif path.is_file():
            files[path.stem] = path
    for sidecar in sorted(folder.glob("*.yaml")):
        source = files.get(sidecar.stem)
        if source is None:
            problems.append(Problem(sidecar, 1, "", f"has no video beside it; add {sidecar.stem}.mp4 or .webm"))
            continue
        card = card_of(sidecar)
        if card is None:
            continue
        card.unknown_fields(FIELDS)
        title = card.texts("title", langs)
        alt = card.texts("alt", langs)
        caption = card.texts("caption", langs, required=False)
        credit = card.text("credit", "Kaupungin viestintä")
        licence = card.text("licence", "CC BY 4.0")
        poster = _poster(card, folder)
        captions = _captions(source, langs, problems)
        try:
            info = probing.probe(source)
        except probing.BadVideo as exc:
            problems.append(Problem(source, 0, "", str(exc)))
            continue
        if captions is None or not title or not alt:
            continue
        found[sidecar.stem] = VideoAsset(
            sidecar.stem,
            source,
            source.stat().st_size,
            info.width,
            info.height,
            info.duration,
            info.mime,
            title,
            alt,
            caption,
            credit,
            licence,
            captions,
            poster,
        )
    for video_id, source in files.items():
        if not (folder / f"{video_id}.yaml").exists():
            problems.append(
                Problem(
                    source,
                    0,
                    "",
                    f"has no sidecar {video_id}.yaml with its title, alt text, credit and licence; add one",
                )
            )
    return found


def _poster(card, folder: Path) -> Path | None:
    name = card.text("poster", "harbour-video-poster.jpg", required=False)
    if not name:
        return None
    path = paths.inside(folder, name, folder)
    if path is None or not path.is_file() or path.suffix.lower() not in POSTER_SUFFIXES:
        card.problem("poster", f"no picture '{name}' in {folder}; give a .jpg, .png or .webp file beside the video")
        return None
    return path


def _captions(source: Path, langs: tuple[str, ...], problems: list[Problem]) -> dict[str, Path] | None:
    """Each language's captions file, or None with a problem for each one missing or not WebVTT."""
    captions, ok = {}, True
    for lang in langs:
        path = source.with_name(f"{source.stem}.{lang}.vtt")
        if not path.is_file():
            problems.append(Problem(source, 0, "", f"has no captions in {lang}; add {path.name} (WebVTT) beside it"))
            ok = False
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            problems.append(Problem(path, 1, "", "is not UTF-8 text; save the captions with UTF-8 encoding"))
            ok = False
            continue
        if not text.startswith(VTT_MAGIC) or "-->" not in text:
            problems.append(
                Problem(
                    path,
                    1,
                    "",
                    "is not a WebVTT captions file; it starts with 'WEBVTT' and has cues like "
                    "'00:00.000 --> 00:02.000'",
                )
            )
            ok = False
            continue
        captions[lang] = path
    return captions if ok else None
