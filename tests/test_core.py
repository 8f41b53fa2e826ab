"""The core without a Pelican build: settings, model, embargo decisions, addresses, slugs, lists, feed item ids; and
the commands that must take the newsroom's own languages."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pelican.settings import DEFAULT_CONFIG
from pelican.utils import slugify as pelican_slugify

from newsroom.content.catalog import catalog_for, load_catalog
from newsroom.core import embargo, records, urls, workers
from newsroom.core.logs import keep_every_line
from newsroom.core.model import Catalog, Release
from newsroom.core.settings import SLUG_SUBSTITUTIONS, Settings, SettingsError
from newsroom.core.slugs import slugify
from newsroom.core.text import split_list
from newsroom.mail.addresses import has_control, masked, normalize_address
from newsroom.site.feeds import item_id
from runcli import newsroom
from sitebuilder import ROOT, release, write_content

TZ = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=TZ)


def make_release(**changes) -> Release:
    """A release version as the catalog makes one; `changes` override any field."""
    values = dict(
        source=Path("/content/releases/r1.fi.md"),
        release_id="r1",
        lang="fi",
        type="press-release",
        title="Otsikko",
        slug="otsikko",
        date=NOW,
        modified=None,
        lead="Ingressi.",
        keywords=(),
        contacts=(),
        images=(),
        attachments=(),
        status="published",
        pinned=False,
        event=None,
    )
    values.update(changes)
    return Release(**values)


def make_catalog(*releases: Release) -> Catalog:
    return Catalog(Path("/content"), None, {}, {}, tuple(releases), ())


# --- settings ---------------------------------------------------------------------------------------------------


def test_settings_fix_one_aware_moment_and_type_the_facts():
    settings = Settings.load({"TIMEZONE": "Europe/Helsinki", "NEWSROOM_NOW": "2026-03-01 09:00", "PATH": "c"})
    assert settings.now == NOW and settings.now.tzinfo is not None
    assert settings["NEWSROOM_NOW"] == settings.now  # dict readers (Pelican) see the same moment
    assert settings.tz == TZ and settings.langs == ("fi", "sv", "en") and settings.content == Path("c")
    again = settings.replace(OUTPUT_PATH="/tmp/staging")
    assert again.now == settings.now and again.output == Path("/tmp/staging") and isinstance(again, dict)
    assert Settings.of(settings) is settings


def test_settings_without_a_pinned_time_still_read_the_clock_only_once():
    settings = Settings.load({"TIMEZONE": "UTC"})
    assert settings.replace().now == settings.now == Settings.of(dict(settings)).now


def test_a_server_that_builds_again_takes_a_new_moment_unless_the_time_is_pinned():
    """`pelican --autoreload` runs one Pelican instance again and again: an embargo must still lift meanwhile."""
    from types import SimpleNamespace

    from newsroom.site.plugin import on_get_generators, on_initialized

    served = SimpleNamespace(settings={"TIMEZONE": "UTC", "NEWSROOM_NOW": None})
    on_initialized(served)
    first = served.settings.now
    on_get_generators(served)
    assert served.settings.now > first and served.settings["NEWSROOM_NOW"] == served.settings.now
    pinned = SimpleNamespace(settings={"TIMEZONE": "Europe/Helsinki", "NEWSROOM_NOW": "2026-03-01 09:00"})
    on_initialized(pinned)
    on_get_generators(pinned)
    assert pinned.settings.now == NOW
    built = SimpleNamespace(settings=Settings.load({"TIMEZONE": "UTC"}))  # a newsroom build: one moment, kept
    on_initialized(built)
    moment = built.settings.now
    on_get_generators(built)
    assert built.settings.now == moment


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"TIMEZONE": "Europe/Nowhere"}, "TIMEZONE"),
        ({"NEWSROOM_LANGUAGES": "fi"}, "NEWSROOM_LANGUAGES"),
        ({"NEWSROOM_LANGUAGES": ()}, "NEWSROOM_LANGUAGES"),
        ({"NEWSROOM_LANGUAGES": ("fi", "fi")}, "NEWSROOM_LANGUAGES"),
        ({"NEWSROOM_LANGUAGES": ("fi", "../x")}, "NEWSROOM_LANGUAGES"),
        ({"NEWSROOM_PROCESSES": -1}, "NEWSROOM_PROCESSES"),
    ],
)
def test_a_wrong_setting_is_refused_naming_it(values, named):
    with pytest.raises(SettingsError, match=named):
        Settings.load({"TIMEZONE": "UTC", **values})


# --- model and embargo ------------------------------------------------------------------------------------------


def test_last_modified_is_the_correction_time_only_when_it_is_later():
    assert make_release().last_modified == NOW
    assert make_release(modified=NOW + timedelta(hours=2)).last_modified == NOW + timedelta(hours=2)
    assert make_release(modified=NOW - timedelta(hours=2)).last_modified == NOW


def test_embargo_decisions():
    public = make_release()
    embargoed = make_release(release_id="r2", date=NOW + timedelta(minutes=1))
    draft = make_release(release_id="r3", status="draft", date=NOW - timedelta(days=1))
    catalog = make_catalog(public, embargoed, draft)
    assert [embargo.state(r, NOW) for r in catalog.releases] == [None, "embargoed", "draft"]
    assert embargo.unpublished(catalog, NOW) == [embargoed, draft]
    assert embargo.next_lift(catalog, NOW) is embargoed
    assert embargo.is_public(embargoed, NOW + timedelta(minutes=1))

    metadata = {"release": "r2", "lang": "fi"}
    embargo.decide(metadata, catalog, embargo.Clock(NOW))
    assert metadata["status"] == "skip"
    shown = {"release": "r2", "lang": "fi"}
    embargo.decide(shown, catalog, embargo.Clock(NOW, preview=True))
    assert shown == {"release": "r2", "lang": "fi", "status": "published", "embargo_state": "embargoed"}
    unknown = {"release": "nothing", "lang": "fi"}
    embargo.decide(unknown, catalog, embargo.Clock(NOW, preview=True))
    assert unknown["status"] == "skip"


# --- addresses, slugs, lists ------------------------------------------------------------------------------------


def test_url_builders_put_every_page_under_its_language():
    assert urls.front("sv") == "sv/"
    assert urls.release_type("fi", "news") == "fi/type/news/"
    assert urls.keyword("fi", "Päätöksenteko") == "fi/keyword/paatoksenteko/"
    assert urls.keyword_slug("!!!") == ""  # no address at all: `newsroom check` refuses such a keyword


@pytest.mark.parametrize(
    "title",
    [
        "Päätöksenteko & <em>äänestys</em> 2026",
        "  Åbo — Turku  ",
        "Ça va? Œuvre!",
        "a--b  c",
        "&amp; &lt;x&gt;",
        "東京",
    ],
)
def test_slugs_are_pelicans(title):
    assert slugify(title) == pelican_slugify(title, regex_subs=Settings.load({})["SLUG_REGEX_SUBSTITUTIONS"])


def test_the_slug_substitutions_are_pelicans_after_the_digit_separator_rule():
    assert [tuple(pair) for pair in DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"]] == list(SLUG_SUBSTITUTIONS[1:])
    # Pelican's defaults, as read_settings fills them in, give way to the newsroom's; a newsroom's own stay.
    assert Settings.load(
        dict(SLUG_REGEX_SUBSTITUTIONS=DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"])
    ).slug_substitutions == (SLUG_SUBSTITUTIONS)
    assert Settings.load(dict(SLUG_REGEX_SUBSTITUTIONS=[(r"\s+", "_")])).slug_substitutions == ((r"\s+", "_"),)


@pytest.mark.parametrize(
    "title, slug",
    [
        ("Kutsu medialle: avajaiset 2.3.", "kutsu-medialle-avajaiset-2-3"),
        ("Joulutorin avajaiset lauantaina 28.11.", "joulutorin-avajaiset-lauantaina-28-11"),
        ("Asiakkaita 1,5 miljoonaa", "asiakkaita-1-5-miljoonaa"),
        ("Tilaisuus klo 17.30–19", "tilaisuus-klo-17-30-19"),
        ("Vuosi 2026. Uusi alku", "vuosi-2026-uusi-alku"),
    ],
)
def test_a_date_time_or_decimal_in_a_title_keeps_its_separator_in_the_slug(title, slug):
    assert slugify(title) == slug
    assert pelican_slugify(title, regex_subs=Settings.load({})["SLUG_REGEX_SUBSTITUTIONS"]) == slug


def test_split_list_drops_blanks_and_repeats_and_keeps_the_order():
    assert split_list(" kirjasto, , museo,kirjasto ") == ("kirjasto", "museo")
    assert split_list("fi;sv;fi", ";") == ("fi", "sv")


def test_one_control_character_rule_for_addresses_and_form_values():
    for text in ("a\nb", "a\x85b", "a\u2028b", "a\x7fb"):
        assert has_control(text)
        with pytest.raises(ValueError, match="line break or a control character"):
            normalize_address(f"aino{text}@example.org")
    assert not has_control("Åsa Öberg, kirjasto")
    assert normalize_address(" Aino@Esimerkki.FI ") == "aino@esimerkki.fi" and masked("aino@x.fi") == "a…@x.fi"


def test_a_worker_per_process_threshold_and_no_fork_while_threads_run():
    started, release_thread = threading.Event(), threading.Event()
    other = threading.Thread(target=lambda: (started.set(), release_thread.wait()))
    other.start()
    started.wait()
    try:
        assert workers.processes(4, 300) == 1  # a fork would copy none of the other thread, maybe a held lock
    finally:
        release_thread.set()
        other.join()
    # A fresh process has no other thread: there the setting and the per-process threshold decide.
    counts = subprocess.run(
        [
            sys.executable,
            "-c",
            "from newsroom.core import workers as w; print(w.processes(4, 3, per_process=1), "
            "w.processes(4, 3), w.processes(0, 10**6) == w.cores())",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert counts == ["3", "1", "True"]
    assert workers.map_shares(lambda n: n * n, list(range(7)), 3) == [n * n for n in range(7)]


def test_feed_item_ids_stay_the_same_however_the_release_is_edited():
    first = item_id("news.example", make_release())
    edited = item_id("news.example", make_release(title="Korjattu", slug="korjattu", modified=NOW + timedelta(days=1)))
    assert first == edited and first.startswith("tag:news.example,") and first.endswith(":fi/r1")
    assert item_id("news.example", make_release(lang="sv")) != first


# --- a newsroom in other languages ------------------------------------------------------------------------------

GERMAN_FRENCH = {
    "./newsroom.yaml": """\
name: {de: Stadt Beispiel, fr: Ville d'Exemple}
address: Postfach 1
phone: "+49 30 555 0100"
email: presse@beispiel.example
website: https://www.beispiel.example
logo: logo.svg
brand_color: "#123456"
about: {de: Eine erfundene Stadt., fr: Une ville inventée.}
""",
    "contacts/ville-virtanen.yaml": """\
name: Ville Virtanen
title: {de: Pressesprecher, fr: Attaché de presse}
phone: "+49 30 555 0150"
email: ville.virtanen@beispiel.example
""",
    "images/red-square.yaml": """\
alt: {de: Ein rotes Quadrat, fr: Un carré rouge}
caption: {de: Quadrat, fr: Carré}
photographer: Foto Graf
licence: CC BY 4.0
""",
}


def _settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "conf.py"
    path.write_text(
        (ROOT / "pelicanconf.py").read_text(encoding="utf-8")
        + f"\nTHEME = {str(ROOT / 'theme')!r}\nPLUGIN_PATHS = [{str(ROOT / 'plugins')!r}]\n"
        "NEWSROOM_LANGUAGES = ('de', 'fr')\nDEFAULT_LANG = 'de'\n",
        encoding="utf-8",
    )
    return path


def test_a_german_and_french_newsroom_takes_its_own_alt_texts_and_languages(tmp_path):
    content = write_content(
        tmp_path / "content",
        {"r1.de.md": release("Neue Bibliothek", "2026-02-01 10:00", lang="de", Images="red-square")},
        GERMAN_FRENCH,
    )
    from newsroom.build.run import BuildOptions, load_settings

    settings = load_settings(BuildOptions(_settings_file(tmp_path), content, tmp_path / "out", "2026-03-01T09:00"))
    assert settings.langs == ("de", "fr")
    catalog = catalog_for(settings)
    assert catalog.problems == ()
    assert catalog.images["red-square"].alt == {"de": "Ein rotes Quadrat", "fr": "Un carré rouge"}
    # the same card in a fi/sv/en newsroom names the languages it does not know
    problems = load_catalog(content, TZ).problems
    assert any("unknown language de, fr; use fi, sv, en" in str(p) for p in problems)

    conf = str(_settings_file(tmp_path))
    made = newsroom(
        "--settings",
        conf,
        "new",
        "release",
        "--content",
        str(content),
        "--type",
        "news",
        "--lang",
        "fr",
        "Nouvelle bibliothèque",
    )
    assert made.returncode == 0, made.stderr
    assert (content / "releases" / "nouvelle-bibliotheque.fr.md").is_file()
    refused = newsroom(
        "--settings",
        conf,
        "new",
        "release",
        "--content",
        str(content),
        "--type",
        "news",
        "--lang",
        "fi",
        "Uusi kirjasto",
    )
    assert (
        refused.returncode == 2 and "--lang fi is not a language of this newsroom; use one of de, fr" in refused.stderr
    )
    assert "Traceback" not in refused.stderr


def test_audit_refuses_content_with_problems_naming_the_file(tmp_path):
    """A release whose header is broken would not be among the unpublished ones looked for: the audit must not pass."""
    content = write_content(tmp_path / "content", {"r1.fi.md": release("Julkinen", "2026-02-01 10:00")})
    broken = content / "releases" / "r2.fi.md"
    broken.write_text(release("Salainen", "yesterday", release_id="r2"), encoding="utf-8")
    (tmp_path / "out").mkdir()
    result = newsroom("audit", "--content", str(content), "--output", str(tmp_path / "out"))
    assert result.returncode == 1 and str(broken) in result.stderr and "nothing was audited" in result.stderr
    assert "No unpublished release shows" not in result.stdout and "Traceback" not in result.stderr


def test_pictures_are_derived_on_the_build_s_pool_alike_in_one_process_and_in_several(tmp_path):
    """media/images.py uses core/workers (NEWSROOM_PROCESSES): forked and in-process work give the same files. Run in
    a fresh process, where no other thread keeps the pool from forking."""
    from PIL import Image

    for n, colour in enumerate(("red", "green", "blue")):
        Image.new("RGB", (320 + n, 200), colour).save(tmp_path / f"p{n}.png")
    script = f"""
from pathlib import Path
from newsroom.core import workers
from newsroom.core.model import ImageAsset
from newsroom.media import images
root = Path({str(tmp_path)!r})
assets = [
    ImageAsset(id=f"p{{n}}", path=root / f"p{{n}}.png", width=320 + n, height=200, size=(root / f"p{{n}}.png").stat().st_size,
               alt={{"fi": "Kuva"}}, caption={{}}, photographer="Kuvaaja", licence="CC BY 4.0")
    for n in range(3)
]
one, problems = images.derive(assets, root / "one", processes=1)
several, more = images.derive(assets, root / "several", processes=3)
assert problems == more == [] and one.keys() == several.keys() == {{"p0", "p1", "p2"}}
print(workers.processes(3, len(assets), per_process=1))
"""
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["3"]  # the second derive forked three workers

    def files(folder: Path) -> dict:
        return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    assert files(tmp_path / "one") and files(tmp_path / "one") == files(tmp_path / "several")


def test_one_a_line_is_the_same_json_with_each_listed_item_on_a_line_of_its_own():
    shared = {"title": "Tiedote ä", "url": "fi/releases/tiedote/"}
    document = {"version": 1, "releases": [shared, {"title": 'Kaksi "lainausta"'}], "language": None}
    texts: dict[int, str] = {}
    text = records.one_a_line(document, "releases", texts)
    assert json.loads(text) == document
    assert text.splitlines()[1:3] == [
        '{"title": "Tiedote ä", "url": "fi/releases/tiedote/"},',
        '{"title": "Kaksi \\"lainausta\\""}',
    ]
    assert records.one_a_line({"version": 1, "releases": [shared]}, "releases", texts).count("Tiedote ä") == 1
    assert texts[id(shared)] == json.dumps(shared, ensure_ascii=False)  # made once for both documents
    assert json.loads(records.one_a_line({"releases": []}, "releases")) == {"releases": []}


def test_a_service_log_keeps_the_lines_pelican_would_drop_as_repeats():
    """Pelican (loaded above) makes every logger skip a message it has logged before; a service's must not."""
    logger, line = logging.getLogger("newsroom.test-service-log"), "Sent 3 email(s) to the test of the service log."
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        logger.warning(line)
        logger.warning(line)
        assert lines == [line]  # Pelican's LimitFilter, as in every process that loads Pelican
        keep_every_line()
        logger.warning(line)
        logger.warning(line)
        assert lines == [line] * 3
    finally:
        logger.removeHandler(handler)
