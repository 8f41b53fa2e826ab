"""Writes a synthetic newsroom of any size: releases with realistic Markdown bodies, keywords, contacts and images."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw

TZ = ZoneInfo("Europe/Helsinki")
# Every generated release is dated before this moment (the benchmark builds "now" at it), except the embargoed ones.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=TZ)
EMBARGOED = 3
TYPES = ["press-release"] * 10 + ["news"] * 5 + ["invitation"] * 2 + ["blog"] * 2 + ["article"]

# Words to build sentences from, per language: enough variety that Markdown and templates see real text.
WORDS = {
    "fi": {
        "subjects": [
            "Kaupunki",
            "Kaupunginhallitus",
            "Kirjasto",
            "Sivistystoimi",
            "Ympäristökeskus",
            "Satama",
            "Liikennelaitos",
            "Nuorisopalvelut",
            "Kaupunginvaltuusto",
            "Rakennusvirasto",
            "Pelastuslaitos",
        ],
        "verbs": ["aloittaa", "laajentaa", "uudistaa", "avaa", "selvittää", "rahoittaa", "suunnittelee", "kehittää"],
        "objects": [
            "asukaskyselyn",
            "pyöräteiden verkoston",
            "koulujen ruokailun",
            "rantapuiston",
            "joukkoliikenteen",
            "kirjastopalvelut",
            "katujen kunnossapidon",
            "sataman alueen",
            "nuorten kesätyöt",
            "leikkipuistot",
        ],
        "tails": [
            "ensi vuoden aikana",
            "yhdessä asukkaiden kanssa",
            "keväällä",
            "koko kaupungin alueella",
            "osana talousarviota",
            "kolmen vuoden hankkeena",
            "ennen kesäkautta",
            "lähiöissä",
        ],
        "keywords": [
            "kirjastot",
            "kulttuuri",
            "liikenne",
            "pyöräily",
            "koulut",
            "varhaiskasvatus",
            "ympäristö",
            "satama",
            "kaavoitus",
            "talous",
            "päätöksenteko",
            "asuminen",
            "nuoret",
            "liikunta",
            "terveys",
            "turvallisuus",
            "rakentaminen",
            "puistot",
            "tapahtumat",
            "työllisyys",
            "ilmasto",
            "matkailu",
            "vesihuolto",
            "katutyöt",
            "joukkoliikenne",
            "digitalisaatio",
            "ikääntyneet",
            "vapaaehtoistyö",
        ],
        "heading": ["Taustaa", "Aikataulu", "Mitä muuttuu", "Rahoitus", "Lisätietoja asukkaille"],
        "subject": "{name}n {lower}",
        "says": "sanoo",
        "more": "Lue lisää kaupungin verkkosivuilta",
        "place": "Kaupungintalo, Esplanadi 1",
    },
    "sv": {
        "subjects": [
            "Staden",
            "Stadsstyrelsen",
            "Biblioteket",
            "Bildningssektorn",
            "Miljöcentralen",
            "Hamnen",
            "Trafikverket",
            "Ungdomstjänsterna",
            "Stadsfullmäktige",
            "Byggnadsverket",
            "Räddningsverket",
        ],
        "verbs": ["inleder", "utvidgar", "förnyar", "öppnar", "utreder", "finansierar", "planerar", "utvecklar"],
        "objects": [
            "en invånarenkät",
            "cykelvägnätet",
            "skolmåltiderna",
            "strandparken",
            "kollektivtrafiken",
            "bibliotekstjänsterna",
            "gatuunderhållet",
            "hamnområdet",
            "ungas sommarjobb",
            "lekparkerna",
        ],
        "tails": [
            "under nästa år",
            "tillsammans med invånarna",
            "på våren",
            "i hela staden",
            "som en del av budgeten",
            "som ett treårigt projekt",
            "före sommarsäsongen",
            "i förorterna",
        ],
        "keywords": [
            "bibliotek",
            "kultur",
            "trafik",
            "cykling",
            "skolor",
            "småbarnspedagogik",
            "miljö",
            "hamn",
            "planläggning",
            "ekonomi",
            "beslutsfattande",
            "boende",
            "unga",
            "idrott",
            "hälsa",
            "säkerhet",
            "byggande",
            "parker",
            "evenemang",
            "sysselsättning",
            "klimat",
            "turism",
            "vattentjänster",
            "gatuarbeten",
            "kollektivtrafik",
            "digitalisering",
            "äldre",
            "frivilligarbete",
        ],
        "heading": ["Bakgrund", "Tidtabell", "Vad ändras", "Finansiering", "Mer information för invånarna"],
        "subject": "{subject} i {name}",
        "says": "säger",
        "more": "Läs mer på stadens webbplats",
        "place": "Stadshuset, Esplanaden 1",
    },
    "en": {
        "subjects": [
            "The city",
            "The City Board",
            "The library",
            "The Education Division",
            "The Environment Centre",
            "The port",
            "The transport authority",
            "Youth Services",
            "The City Council",
            "The Building Office",
            "The rescue department",
        ],
        "verbs": ["launches", "extends", "renews", "opens", "reviews", "funds", "plans", "develops"],
        "objects": [
            "a residents' survey",
            "the cycle path network",
            "school meals",
            "the shore park",
            "public transport",
            "library services",
            "street maintenance",
            "the harbour area",
            "summer jobs for young people",
            "the playgrounds",
        ],
        "tails": [
            "next year",
            "together with residents",
            "in the spring",
            "across the city",
            "as part of the budget",
            "as a three-year project",
            "before the summer season",
            "in the suburbs",
        ],
        "keywords": [
            "libraries",
            "culture",
            "traffic",
            "cycling",
            "schools",
            "early education",
            "environment",
            "port",
            "planning",
            "finance",
            "decision-making",
            "housing",
            "youth",
            "sports",
            "health",
            "safety",
            "construction",
            "parks",
            "events",
            "employment",
            "climate",
            "tourism",
            "water supply",
            "street works",
            "public transport",
            "digitalisation",
            "older people",
            "volunteering",
        ],
        "heading": ["Background", "Timetable", "What changes", "Funding", "More for residents"],
        "subject": "{subject} in {name}",
        "says": "says",
        "more": "Read more on the city's website",
        "place": "City Hall, Esplanadi 1",
    },
}

CONTACTS = [
    ("aino-lehtonen", "Aino Lehtonen"),
    ("mikko-salminen", "Mikko Salminen"),
    ("sanna-virtanen", "Sanna Virtanen"),
    ("erik-lindqvist", "Erik Lindqvist"),
    ("laura-hakala", "Laura Hakala"),
    ("petri-koskinen", "Petri Koskinen"),
    ("johanna-nyberg", "Johanna Nyberg"),
    ("tomas-gronroos", "Tomas Grönroos"),
    ("jari-heikkinen", "Jari Heikkinen"),
    ("maria-aalto", "Maria Aalto"),
    ("oskar-berg", "Oskar Berg"),
    ("helmi-rantanen", "Helmi Rantanen"),
]
IMAGES = [
    ("harbour", "#23577a"),
    ("park", "#3d7a35"),
    ("library", "#7a4d23"),
    ("tram", "#6b6b6b"),
    ("school", "#a33b3b"),
    ("market", "#c08a1e"),
]

PUBLISHER = """\
name:
  fi: Vertailukaupunki
  sv: Jämförelsestad
  en: Benchmark City
address: |
  PL 1 / PB 1
  00990 VERTAILUKAUPUNKI
phone: "+358 9 555 1000"
email: viestinta@vertailu.example
website: https://www.vertailu.example
logo: logo.svg
name_forms:
  fi:
    genitive: Vertailukaupungin
about:
  fi: Vertailukaupunki on kuvitteellinen kaupunki suorituskykymittauksia varten.
  sv: Jämförelsestad är en påhittad stad för prestandamätningar.
  en: Benchmark City is a made-up city for performance measurements.
media_use:
  fi: Aineisto on vapaasti median käytettävissä.
  sv: Materialet får användas fritt av medierna.
  en: The material may be used freely by the media.
"""


def write_corpus(root: Path, releases: int, langs: tuple[str, ...], seed: int = 2026) -> Path:
    """A content folder with `releases` releases, each in every language of `langs`; returns the folder."""
    rng = random.Random(seed)
    for folder in ("releases", "contacts", "images", "attachments"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "newsroom.yaml").write_text(PUBLISHER, encoding="utf-8")
    (root / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>\n'
    )
    (root / "attachments" / "report.pdf").write_bytes(b"%PDF-1.4\n% synthetic attachment\n" + b"0" * 20_000)
    (root / "attachments" / "report.yaml").write_text(
        "title: {fi: Raportti, sv: Rapport, en: Report}\n", encoding="utf-8"
    )
    for number, (contact_id, name) in enumerate(CONTACTS):
        (root / "contacts" / f"{contact_id}.yaml").write_text(_contact(contact_id, name, number), encoding="utf-8")
    for image_id, colour in IMAGES:
        _image(root / "images", image_id, colour)
    for number in range(releases):
        write_release(root, number, langs, rng, NOW - timedelta(hours=7 * (number + 1)))
    for number in range(releases, releases + EMBARGOED):
        write_release(root, number, langs, rng, NOW + timedelta(days=number - releases + 1))
    return root


def write_release(root: Path, number: int, langs: tuple[str, ...], rng: random.Random, date: datetime) -> list[Path]:
    """One release in every language of `langs`; the language versions share its id, type and slug."""
    kind = rng.choice(TYPES)
    release_id = f"release-{number:05d}"
    shape = {
        "keywords": rng.sample(range(len(WORDS["fi"]["keywords"])), rng.randint(2, 5)),
        "contacts": rng.sample(CONTACTS, rng.randint(1, 3)),
        "images": rng.sample(IMAGES, rng.choice((0, 1, 1, 2, 3))),
        "attach": rng.random() < 0.1,
        "pinned": number == 0,
        "seed": rng.random(),
        "district": district(number),
    }
    paths = []
    for lang in langs:
        path = root / "releases" / f"{release_id}.{lang}.md"
        path.write_text(_release(release_id, kind, lang, date, shape), encoding="utf-8")
        paths.append(path)
    return paths


def _stamp(moment: datetime) -> str:
    """With its offset: hours counted back from NOW land on nights when the clocks change too."""
    return moment.astimezone(TZ).isoformat(timespec="minutes")


SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ha", "je", "ku", "la", "po", "se", "to", "va")


def district(number: int) -> str:
    """A made-up district name unique to each release, so no two releases share a sentence (the leak audit
    looks for an embargoed release's sentences in public pages)."""
    digits = [(number >> shift) & 15 for shift in (12, 8, 4, 0)]
    return "".join(SYLLABLES[d] for d in digits).capitalize()


def _sentence(words: dict, rng: random.Random) -> str:
    subject = rng.choice(words["subjects"])
    subject = words["subject"].format(subject=subject, lower=subject.lower(), name=words["district"])
    return f"{subject} {rng.choice(words['verbs'])} {rng.choice(words['objects'])} {rng.choice(words['tails'])}."


def _paragraph(words: dict, rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(words, rng) for _ in range(sentences))


def _release(release_id: str, kind: str, lang: str, date: datetime, shape: dict) -> str:
    rng = random.Random(shape["seed"])  # same structure in every language version
    words = {**WORDS[lang], "district": shape["district"]}
    title = _sentence(words, rng)[:-1]
    header = {
        "Title": title,
        "Date": _stamp(date),
        "Type": kind,
        "Lang": lang,
        "Release": release_id,
        "Slug": release_id,
        "Lead": _paragraph(words, rng, 2),
        "Keywords": ", ".join(words["keywords"][i] for i in shape["keywords"]),
        "Contacts": ", ".join(contact_id for contact_id, _ in shape["contacts"]),
    }
    if shape["images"]:
        header["Images"] = ", ".join(image_id for image_id, _ in shape["images"])
    if shape["attach"]:
        header["Attachments"] = "report.pdf"
    if shape["pinned"]:
        header["Pinned"] = "yes"
    if kind == "invitation":
        header["Event-Start"] = _stamp(date + timedelta(days=7))
        header["Event-End"] = _stamp(date + timedelta(days=7, hours=2))
        header["Location"] = words["place"]
    body = [_paragraph(words, rng, rng.randint(3, 5)) for _ in range(2)]
    speaker = shape["contacts"][0][1]
    body.append(f"> ”{_sentence(words, rng)[:-1]}”, {words['says']} {speaker}.")
    for heading in rng.sample(words["heading"], 2):
        body.append(f"## {heading}")
        body.extend(_paragraph(words, rng, rng.randint(2, 5)) for _ in range(rng.randint(1, 3)))
    body.append("\n".join(f"- {_sentence(words, rng)}" for _ in range(rng.randint(2, 4))))
    body.append(f"**{_sentence(words, rng)}** [{words['more']}](https://www.vertailu.example/{lang}/{release_id}).")
    return "\n".join(f"{key}: {value}" for key, value in header.items()) + "\n\n" + "\n\n".join(body) + "\n"


def _contact(contact_id: str, name: str, number: int) -> str:
    return (
        f"name: {name}\ntitle:\n  fi: asiantuntija\n  sv: sakkunnig\n  en: Specialist\n"
        f'phone: "+358 40 555 {101 + number:04d}"\nemail: {contact_id.replace("-", ".")}@vertailu.example\n'
        "unit:\n  fi: Viestintä\n  sv: Kommunikation\n  en: Communications\n"
    )


def _image(folder: Path, image_id: str, colour: str) -> None:
    picture = Image.new("RGB", (960, 640), colour)
    draw = ImageDraw.Draw(picture)
    for band in range(0, 640, 40):
        draw.rectangle((0, band, 960, band + 18), fill="white" if band % 80 else "black")
    picture.save(folder / f"{image_id}.jpg", quality=80)
    (folder / f"{image_id}.yaml").write_text(
        f"alt:\n  fi: Kuva {image_id}\n  sv: Bild {image_id}\n  en: Picture {image_id}\n"
        f"caption:\n  fi: Kuvateksti {image_id}\n  sv: Bildtext {image_id}\n  en: Caption {image_id}\n"
        "photographer: Kuvaaja Kuvitteellinen\nlicence: CC BY 4.0\n",
        encoding="utf-8",
    )
