"""`newsroom new`: files a writer starts from pass the checks and carry the shared fields."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from newsroom.content.authoring import next_full_hour
from newsroom.content.catalog import load_catalog
from newsroom.content.header import read_header
from runcli import newsroom
from sitebuilder import write_content

TZ = ZoneInfo("Europe/Helsinki")


def test_next_full_hour_rounds_up():
    assert next_full_hour(datetime(2026, 3, 1, 8, 15, tzinfo=TZ)) == datetime(2026, 3, 1, 9, 0, tzinfo=TZ)
    assert next_full_hour(datetime(2026, 3, 1, 9, 0, tzinfo=TZ)) == datetime(2026, 3, 1, 10, 0, tzinfo=TZ)


def test_new_release_translation_and_contact_pass_the_checks(tmp_path):
    content = write_content(tmp_path / "content", {})
    made = newsroom(
        "new", "release", "--type", "invitation", "--lang", "fi", "Avoimet ovet kirjastossa", "--content", str(content)
    )
    assert made.returncode == 0, made.stderr
    source = content / "releases" / "avoimet-ovet-kirjastossa.fi.md"
    fields, _ = read_header(source)
    assert fields["status"].value == "draft" and fields["type"].value == "invitation"
    assert fields["date"].value.endswith(":00") and "event-start" in fields and "location" in fields

    made = newsroom("new", "translation", str(source), "--lang", "sv", "--content", str(content))
    assert made.returncode == 0, made.stderr
    translation, _ = read_header(content / "releases" / "avoimet-ovet-kirjastossa.sv.md")
    for shared in ("date", "type", "release", "event-start", "location"):
        assert translation[shared].value == fields[shared].value
    assert translation["lang"].value == "sv"

    again = newsroom("new", "translation", str(source), "--lang", "sv", "--content", str(content))
    assert again.returncode == 2 and "already" in again.stderr

    made = newsroom("new", "contact", "Saara Esimerkki", "--content", str(content))
    assert made.returncode == 0, made.stderr
    catalog = load_catalog(content, TZ)
    assert catalog.problems == ()
    assert {r.lang for r in catalog.releases} == {"fi", "sv"}
    assert catalog.contacts["saara-esimerkki"].name == "Saara Esimerkki"
