"""Video files as ffprobe sees them, and the poster frame ffmpeg takes from one: the only place external tools run.

Content calls `probe` to check a file; the media bank calls `poster`, which keeps its frame in the image cache under a
key made of the video's bytes, so a build makes each poster once."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# What every current browser's <video> plays without a plug-in: H.264 with AAC in MP4, VP8/VP9/AV1 with Vorbis or
# Opus in WebM.
CODECS = {
    ".mp4": ({"h264"}, {"aac"}, "video/mp4"),
    ".m4v": ({"h264"}, {"aac"}, "video/mp4"),
    ".webm": ({"vp8", "vp9", "av1"}, {"vorbis", "opus"}, "video/webm"),
}
SUFFIXES = tuple(CODECS)
# A press video is a clip for journalists to download, not a programme: anything larger belongs on a video service.
MAX_BYTES = 200 * 1024 * 1024
POSTER_VERSION = 1  # part of the poster's cache key: bump it when the frame is taken differently
TIMEOUT = 60


class BadVideo(ValueError):
    """The file is not a video a browser plays, or ffprobe cannot read it; the message says what to do."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration: float  # seconds
    mime: str


def tools_missing() -> str:
    """'' when ffprobe and ffmpeg are installed, else what to install."""
    missing = [tool for tool in ("ffprobe", "ffmpeg") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not found; install ffmpeg (Debian: apt-get install ffmpeg)" if missing else ""


# What ffprobe said of each file, by the file's identity on disk: ffprobe takes a quarter of a second, and the desk
# checks the content (hard links to the same files, so the same identity) every time a writer pauses typing.
_probed: dict[tuple[int, int, int, int], VideoInfo] = {}


def probe(path: Path) -> VideoInfo:
    """The size and length of a browser-playable video, or BadVideo saying why it is not one; a file probed before
    and not changed since (same device, inode, size and modification time) is not probed again."""
    found = path.stat()
    identity = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
    if identity not in _probed:
        _probed[identity] = _probe(path)
    return _probed[identity]


def _probe(path: Path) -> VideoInfo:
    suffix, max_bytes = path.suffix.lower(), MAX_BYTES
    if suffix not in CODECS:
        raise BadVideo(f"is not an MP4 or WebM file; use one of {', '.join(SUFFIXES)}")
    size = path.stat().st_size
    if size > max_bytes:
        raise BadVideo(
            f"is {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.1f} MB limit for a video; "
            "shorten or compress it, or link to it on a video service"
        )
    missing = tools_missing()
    if missing:
        raise BadVideo(f"cannot be checked: {missing}")
    command = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise BadVideo(f"could not be read by ffprobe in {TIMEOUT} s; check that it is a video file") from None
    try:
        found = json.loads(done.stdout or "{}")
    except json.JSONDecodeError:
        found = {}
    streams = found.get("streams") or []
    video = [s for s in streams if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")]
    if done.returncode != 0 or not video:
        raise BadVideo("is not a video file ffprobe can read; export it again as MP4 (H.264 and AAC) or WebM")
    video_codecs, audio_codecs, mime = CODECS[suffix]
    codec = video[0].get("codec_name", "")
    if codec not in video_codecs:
        raise BadVideo(
            f"has {codec or 'unknown'} video, which browsers do not play in a {suffix} file; "
            f"use {' or '.join(sorted(video_codecs))} (export as MP4 with H.264 and AAC, or WebM)"
        )
    for audio in (s for s in streams if s.get("codec_type") == "audio"):
        if audio.get("codec_name") not in audio_codecs:
            raise BadVideo(
                f"has {audio.get('codec_name') or 'unknown'} sound; in a {suffix} file use "
                f"{' or '.join(sorted(audio_codecs))}"
            )
    duration = float(found.get("format", {}).get("duration") or video[0].get("duration") or 0)
    return VideoInfo(int(video[0].get("width") or 0), int(video[0].get("height") or 0), duration, mime)


def poster(path: Path, cache: Path, at: float) -> Path:
    """A JPEG frame `at` seconds into the video, made once per video content and kept in the cache."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    key = hashlib.sha256(f"{POSTER_VERSION}:{digest.hexdigest()}:{at:.3f}".encode()).hexdigest()
    cached = cache / "video" / f"{key[:32]}.jpg"
    if cached.exists():
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    temporary = cached.with_name(f"{cached.stem}.{os.getpid()}.tmp.jpg")
    command = ["ffmpeg", "-v", "error", "-y", "-ss", f"{at:.3f}", "-i", str(path), "-frames:v", "1", "-q:v", "3"]
    done = subprocess.run([*command, str(temporary)], capture_output=True, text=True, timeout=TIMEOUT, check=False)
    if done.returncode != 0 or not temporary.exists():
        temporary.unlink(missing_ok=True)
        raise BadVideo(f"ffmpeg could not take a poster frame: {done.stderr.strip()[:200]}")
    os.replace(temporary, cached)
    return cached
