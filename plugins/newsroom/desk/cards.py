"""Images and contact cards in the desk: uploads checked as the build checks them, sidecars and cards as YAML.

An upload is taken only when it is a picture the build will take (media.images.inspect: the real type sniffed
from its bytes, never its name; Pillow's decompression-bomb guard; damaged or absurd files refused), and only
with its credit, licence, and alt text and caption in every language of the newsroom, so no picture can be used
without them. The build strips GPS and camera serials from what it serves (NEWSROOM_IMAGE_ORIGINAL).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import yaml
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from newsroom.content import authoring
from newsroom.desk import checking, documents, gitstore
from newsroom.desk.web import Context, Desk, Refused, author, page
from newsroom.media.images import BadImage, inspect

MAX_UPLOAD = 25 * 1024 * 1024
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# The first bytes of each picture type the newsroom takes, and the name ending it gets.
_MAGIC = ((b"\xff\xd8\xff", ".jpg"), (b"\x89PNG\r\n\x1a\n", ".png"))


def sniffed_suffix(data: bytes) -> str | None:
    for magic, suffix in _MAGIC:
        if data.startswith(magic):
            return suffix
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return None


def card_text(card: dict) -> str:
    """A sidecar or card as the desk writes YAML: keys in the form's order, text as typed (no escapes, no folding)."""
    return yaml.safe_dump(card, allow_unicode=True, sort_keys=False, width=1000)


def sidecar_text(values: dict[str, str], langs: tuple[str, ...]) -> str:
    card = {
        "alt": {lang: values[f"alt_{lang}"] for lang in langs},
        "caption": {lang: values[f"caption_{lang}"] for lang in langs},
        "photographer": values["photographer"],
        "licence": values["licence"],
    }
    return card_text(card)


def contact_text(values: dict[str, str], langs: tuple[str, ...]) -> str:
    card: dict = {"name": values["name"], "title": {lang: values[f"title_{lang}"] for lang in langs}}
    card.update(phone=values["phone"], email=values["email"])
    unit = {lang: values[f"unit_{lang}"] for lang in langs if values.get(f"unit_{lang}")}
    if unit:
        card["unit"] = unit
    if values.get("photo"):
        card["photo"] = values["photo"]
    return card_text(card)


def routes(desk: Desk) -> list[Route]:
    langs = desk.langs
    images_dir, contacts_dir = desk.content / "images", desk.content / "contacts"

    async def images_page(ctx: Context) -> Response:
        return ctx.render("images.html", catalog=desk.catalog(), values={}, errors={}, saved=ctx.query("saved"))

    async def upload(ctx: Context) -> Response:
        assert ctx.form is not None
        values = {k: str(v).strip() for k, v in ctx.form.items() if not isinstance(v, UploadFile)}
        errors: dict[str, str] = {}
        required = ["id", "photographer", "licence"] + [f"{f}_{lang}" for f in ("alt", "caption") for lang in langs]
        for name in required:
            if not values.get(name):
                errors[name] = "required"
        image_id = values.get("id", "")
        if image_id and not _ID.match(image_id):
            errors["id"] = "bad-id"
        elif image_id and any(images_dir.glob(f"{image_id}.*")):
            errors["id"] = "id-taken"
        upload = ctx.form.get("file")
        data = await upload.read(MAX_UPLOAD + 1) if isinstance(upload, UploadFile) else b""
        suffix = sniffed_suffix(data)
        if not data:
            errors["file"] = "no-file"
        elif len(data) > MAX_UPLOAD:
            errors["file"] = "too-large"
        elif suffix is None:
            errors["file"] = "not-a-picture"
        else:
            with tempfile.TemporaryDirectory() as scratch:
                probe = Path(scratch) / f"upload{suffix}"
                probe.write_bytes(data)
                try:
                    inspect(probe)
                except BadImage as exc:
                    errors["file"] = str(exc)
        if errors:
            return ctx.render("images.html", status=422, catalog=desk.catalog(), values=values, errors=errors)
        picture, sidecar = images_dir / f"{image_id}{suffix}", images_dir / f"{image_id}.yaml"
        with gitstore.locked():
            images_dir.mkdir(parents=True, exist_ok=True)
            try:
                gitstore.save_upload(
                    desk.repo,
                    picture,
                    data,
                    sidecar,
                    sidecar_text(values, langs),
                    f"New image {image_id} ({values['photographer']}, {values['licence']})",
                    author(ctx.user),
                )
            except gitstore.GitError as exc:
                errors["file"] = str(exc)
                return ctx.render("images.html", status=500, catalog=desk.catalog(), values=values, errors=errors)
        ctx.log("uploaded image", picture.name)
        return RedirectResponse(f"/images?saved={image_id}", status_code=303)

    async def contacts_page(ctx: Context) -> Response:
        return ctx.render("contacts.html", catalog=desk.catalog(), error=None)

    async def new_contact(ctx: Context) -> Response:
        assert ctx.form is not None
        name = str(ctx.form.get("name", "")).strip()
        if not name:
            return ctx.render("contacts.html", status=422, catalog=desk.catalog(), error="name-missing")
        try:
            with gitstore.locked():
                path = authoring.new_contact(desk.content, name)
                gitstore.commit(desk.repo, [path], f"New contact card: {name}", author(ctx.user))
        except authoring.AuthoringError:
            return ctx.render("contacts.html", status=409, catalog=desk.catalog(), error="contact-exists")
        ctx.log("created contact", path.name)
        return RedirectResponse(f"/contacts/{path.stem}", status_code=303)

    def _card(contact_id: str) -> Path:
        path = contacts_dir / f"{contact_id}.yaml"
        if not _ID.match(contact_id) or not path.is_file():
            raise Refused(404, "no-contact")
        return path

    def _card_values(path: Path) -> dict[str, str]:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        values = {k: str(data.get(k) or "") for k in ("name", "phone", "email", "photo")}
        for field in ("title", "unit"):
            texts = data.get(field) or {}
            for lang in langs:
                values[f"{field}_{lang}"] = str(texts.get(lang, "") if isinstance(texts, dict) else texts)
        return values

    async def contact_page(ctx: Context) -> Response:
        path = _card(ctx.request.path_params["contact"])
        values = _card_values(path)
        blob = documents.blob_hash(path.read_bytes())
        problems, _ = checking.check(desk.content, desk.settings, {path: path.read_text(encoding="utf-8")})
        return ctx.render(
            "contact.html",
            contact_id=path.stem,
            values=values,
            blob=blob,
            problems=problems,
            catalog=desk.catalog(),
            saved=ctx.query("saved"),
        )

    async def save_contact(ctx: Context) -> Response:
        path = _card(ctx.request.path_params["contact"])
        assert ctx.form is not None
        values = {k: str(v).strip() for k, v in ctx.form.items()}
        text = contact_text(values, langs)
        with gitstore.locked():
            current = documents.blob_hash(path.read_bytes())
            if values.get("blob") != current:
                raise Refused(409, "changed-meanwhile")
            problems, _ = checking.check(desk.content, desk.settings, {path: text})
            if problems:
                return ctx.render(
                    "contact.html",
                    status=422,
                    contact_id=path.stem,
                    values=values,
                    blob=current,
                    problems=problems,
                    catalog=desk.catalog(),
                )
            gitstore.save(desk.repo, {path: text}, f"Contact card {values['name']} updated", author(ctx.user))
        ctx.log("saved contact", path.name)
        return RedirectResponse(f"/contacts/{path.stem}?saved=1", status_code=303)

    return [
        Route("/images", page(desk)(images_page), methods=["GET"]),
        Route("/images", page(desk)(upload), methods=["POST"]),
        Route("/contacts", page(desk)(contacts_page), methods=["GET"]),
        Route("/contacts", page(desk)(new_contact), methods=["POST"]),
        Route("/contacts/{contact:str}", page(desk)(contact_page), methods=["GET"]),
        Route("/contacts/{contact:str}", page(desk)(save_contact), methods=["POST"]),
    ]
