"""Videos in content/videos/: ffprobe checks each file and newsroom check names the one that is wrong; a built site has
the video, its poster (taken with ffmpeg) and captions, in the release page, ZIP, feeds, JSON API and JSON-LD."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from lxml import etree
from PIL import Image

from newsroom.cli.main import main
from newsroom.content.catalog import load_catalog
from newsroom.media import videos as probing
from newsroom.site import api
from sitebuilder import SMALL_NOW, build_site, release, write_content

TZ = ZoneInfo("Europe/Helsinki")
LANGS = ("fi", "sv", "en")
SIDECAR = """\
title:
  fi: Testivideo
  sv: Testvideo
  en: Test video
alt:
  fi: Värillisiä raitoja ja merkkiääni
  sv: Färgade ränder och en ton
  en: Coloured bars and a tone
caption:
  fi: Kuvateksti
  sv: Bildtext
  en: Caption
credit: Testilan viestintä
licence: CC BY 4.0
"""
CUES = "WEBVTT\n\n00:00.000 --> 00:01.000\n[{lang}] tone\n"

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is installed by `make test`")


def _ffmpeg(target: Path, *codec: str, video: str = "testsrc=size=160x90:rate=10:duration=2") -> Path:
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", video, "-f", "lavfi", "-i", "sine=duration=2"]
    subprocess.run([*command, *codec, "-shortest", str(target)], check=True)
    return target


def _content(root: Path, video_name: str = "clip.mp4", captions=LANGS, **releases) -> Path:
    content = write_content(
        root / "content",
        releases
        or {
            "one.fi.md": release("Videotiedote", "2026-10-01 10:00", Images="red-square", Videos="clip"),
            "one.en.md": release("Video release", "2026-10-01 10:00", lang="en", Videos="clip"),
        },
    )
    folder = content / "videos"
    folder.mkdir()
    if video_name.endswith(".mp4"):
        _ffmpeg(folder / video_name, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    (folder / f"{Path(video_name).stem}.yaml").write_text(SIDECAR, encoding="utf-8")
    for lang in captions:
        (folder / f"clip.{lang}.vtt").write_text(CUES.format(lang=lang), encoding="utf-8")
    return content


def _problems(content: Path) -> list[str]:
    return [str(p) for p in load_catalog(content, TZ).problems]


def test_a_valid_video_is_loaded_with_its_size_length_and_captions(tmp_path):
    content = _content(tmp_path)
    catalog = load_catalog(content, TZ)
    assert catalog.problems == ()
    video = catalog.videos["clip"]
    assert (video.width, video.height, video.mime) == (160, 90, "video/mp4")
    assert 1.5 < video.duration < 2.5
    assert sorted(video.captions) == sorted(LANGS)
    assert [v.id for v in catalog.version("r1", "fi").videos] == ["clip"]


def test_missing_captions_are_a_problem_naming_the_video_and_the_file_to_add(tmp_path, capsys):
    content = _content(tmp_path, captions=("fi", "en"))
    assert main(["check", "--content", str(content)]) == 1
    out = capsys.readouterr().out
    assert "clip.mp4" in out and "has no captions in sv; add clip.sv.vtt" in out


def test_a_file_that_is_not_a_video_is_a_problem_naming_it(tmp_path, capsys):
    content = _content(tmp_path, video_name="clip.webm")
    (content / "videos" / "clip.webm").write_bytes(b"this is not a video at all" * 40)
    assert main(["check", "--content", str(content)]) == 1
    out = capsys.readouterr().out
    assert "videos/clip.webm: is not a video file ffprobe can read" in out


def test_an_unsupported_codec_is_a_problem_naming_the_file_and_the_codecs_to_use(tmp_path):
    content = _content(tmp_path, video_name="clip.mpg")
    _ffmpeg(content / "videos" / "clip.mp4", "-c:v", "mpeg4", "-c:a", "aac")
    problems = _problems(content)
    assert any("videos/clip.mp4" in p and "has mpeg4 video" in p and "h264" in p for p in problems), problems


def test_a_video_over_the_size_limit_is_a_problem(tmp_path, monkeypatch):
    from newsroom.media import videos

    content = _content(tmp_path)
    monkeypatch.setattr(videos, "MAX_BYTES", 1000)
    problems = _problems(content)
    assert any("videos/clip.mp4" in p and "over the 0.0 MB limit" in p for p in problems), problems


def test_captions_that_are_not_webvtt_are_a_problem_naming_the_captions_file(tmp_path):
    content = _content(tmp_path)
    (content / "videos" / "clip.sv.vtt").write_text("1\n00:00:00,000 --> 00:00:01,000\nSRT, not WebVTT\n")
    assert any("clip.sv.vtt:1: is not a WebVTT captions file" in p for p in _problems(content))


def test_a_release_naming_an_unknown_video_is_a_problem_on_its_videos_line(tmp_path):
    content = _content(tmp_path, **{"one.fi.md": release("T", "2026-10-01 10:00", Videos="clipp")})
    assert any("one.fi.md:8: Videos: no video 'clipp'" in p and "did you mean 'clip'" in p for p in _problems(content))


@pytest.fixture(scope="module")
def video_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("video-site")
    return build_site(_content(root), root / "output", now=SMALL_NOW)


def test_the_built_site_has_the_video_its_poster_and_captions_and_the_page_plays_them(video_site):
    out = video_site.output
    assert (out / "videos" / "clip.mp4").read_bytes() == (video_site.content / "videos" / "clip.mp4").read_bytes()
    poster = Image.open(out / "videos" / "clip" / "poster.jpg")
    assert (poster.format, poster.size) == ("JPEG", (160, 90))
    assert (out / "videos" / "clip" / "sv.vtt").read_text().startswith("WEBVTT")
    page = video_site.html("fi/releases/videotiedote/")
    player = page.select_one("video")
    assert player["poster"].endswith("/videos/clip/poster.jpg") and player.has_attr("controls")
    assert player.select_one("source")["type"] == "video/mp4"
    tracks = player.select("track")
    assert [t["srclang"] for t in tracks] == ["fi", "sv", "en"] and tracks[0].has_attr("default")
    assert all(t["kind"] == "captions" for t in tracks)
    links = [a["href"] for a in page.select(".release__videos a.download")]
    assert any(h.endswith("/videos/clip.mp4") for h in links) and any(h.endswith("poster.jpg") for h in links)


def test_the_release_zip_holds_its_images_video_poster_captions_and_credits(video_site):
    page = video_site.html("fi/releases/videotiedote/")
    href = page.select_one(".release__videos .release__zip a")["href"]
    data = next(video_site.output.rglob("videotiedote.zip")).read_bytes()
    assert href.endswith("videotiedote.zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert any(name.startswith("red-square.") for name in names)
        assert {"clip.mp4", "clip-poster.jpg", "clip.fi.vtt", "clip.sv.vtt", "clip.en.vtt"} <= names
        assert archive.read("clip.mp4") == (video_site.content / "videos" / "clip.mp4").read_bytes()
        credits = archive.read("credits.txt").decode()
    assert "clip.mp4" in credits and "Testivideo" in credits and "Testilan viestintä, CC BY 4.0" in credits


def test_feeds_carry_the_video_as_an_enclosure_and_media_content(video_site):
    atom = etree.parse(str(video_site.output / "fi/feeds/all.atom.xml"))
    ns = {"a": "http://www.w3.org/2005/Atom", "m": "http://search.yahoo.com/mrss/"}
    enclosures = atom.xpath("//a:entry/a:link[@rel='enclosure']/@href", namespaces=ns)
    assert any(h.endswith("/videos/clip.mp4") for h in enclosures)
    rss = etree.parse(str(video_site.output / "fi/feeds/all.rss.xml"))
    enclosure = rss.xpath("//item/enclosure")[0]
    assert enclosure.get("url").endswith("/videos/clip.mp4") and enclosure.get("type") == "video/mp4"
    assert int(enclosure.get("length")) == (video_site.content / "videos" / "clip.mp4").stat().st_size
    media = rss.xpath("//item/m:content[@medium='video']", namespaces=ns)[0]
    assert media.get("duration") == "2" and media.find("m:thumbnail", ns).get("url").endswith("poster.jpg")


def test_the_json_api_lists_the_video_and_validates_against_its_schema(video_site):
    document = json.loads((video_site.output / "api/releases.json").read_text())
    jsonschema.validate(document, json.loads(api.SCHEMA.read_text()))
    fi = next(r for r in document["releases"] if r["language"] == "fi")
    (video,) = fi["videos"]
    assert video["url"].endswith("/videos/clip.mp4") and video["type"] == "video/mp4"
    assert video["title"] == "Testivideo" and [c["language"] for c in video["captions"]] == ["fi", "sv", "en"]


def test_structured_data_describes_the_video_as_a_videoobject(video_site):
    page = video_site.html("en/releases/video-release/")
    data = [json.loads(s.string) for s in page.select('script[type="application/ld+json"]')]
    (video,) = data[0]["video"]
    assert video["@type"] == "VideoObject" and video["name"] == "Test video"
    assert video["thumbnailUrl"].endswith("poster.jpg") and video["duration"] == "PT2S"
    assert video["uploadDate"].startswith("2026-10-01")


def test_a_video_is_probed_once_until_it_changes(tmp_path, monkeypatch):
    """The desk checks the content at every pause in typing; ffprobe runs again only for a changed file."""
    clip = _ffmpeg(tmp_path / "clip.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac")
    runs = []
    real = probing.subprocess.run
    monkeypatch.setattr(probing.subprocess, "run", lambda *a, **k: runs.append(a) or real(*a, **k))
    first = probing.probe(clip)
    os.link(clip, tmp_path / "linked.mp4")  # the desk's check folder holds hard links to the content
    assert probing.probe(tmp_path / "linked.mp4") == first and len(runs) == 1
    clip.write_bytes(b"no longer a video, same name")
    with pytest.raises(probing.BadVideo, match="is not a video file"):
        probing.probe(clip)
    assert len(runs) == 2
