"""Attachment upload from the release editor: checked as the build checks attachments, written with its sidecar.

The file is taken only when `newsroom check` would take it (media.attachments.sniff: the type read from its bytes,
the name's ending matching it, NEWSROOM_ATTACHMENT_MAX_MB) and only with its title in every language of the
newsroom, so no release can attach it without one. The file and its sidecar are one commit by the user. The
release being edited is not saved by an upload: the editor comes back with everything typed and the new file
chosen, and the user saves as usual; a refused upload comes back the same way, saying why at the file field.
"""

from __future__ import annotations

import re
from pathlib import Path

from starlette.datastructures import FormData, UploadFile

from newsroom.core.i18n import N_, file_size
from newsroom.core.slugs import slugify
from newsroom.desk import gitstore
from newsroom.desk.cards import card_text
from newsroom.desk.web import Context, Desk, author
from newsroom.media.attachments import BadAttachment, sniff

FILE_FIELD = "attachment_file"
_STEM = re.compile(r"[^a-z0-9]+")
MESSAGES = {
    "required": N_("Give the title in this language."),
    "no-file": N_("Choose the file to attach."),
    "too-large": N_("The file is {size}; an attachment may be at most {limit}. Compress it or split it into parts."),
    "not-taken": N_(
        "The contents of {name} are not of a type the newsroom publishes (PDF, Word, Excel, PowerPoint, "
        "OpenDocument, ZIP, CSV, plain text, JPEG or PNG); the contents were checked, not the name."
    ),
    "wrong-name": N_(
        "The contents of {name} are {kind}, but its name ends in {suffix}: check that you chose the right file, "
        "or rename it to end in {right}."
    ),
}


def title_field(lang: str) -> str:
    return f"attachment_title_{lang}"


def file_name(folder: Path, uploaded: str, suffix: str) -> str:
    """A name for the site's address made from the uploaded file's (lowercase ASCII, hyphens), with the ending the
    contents call for; '-2', '-3'... when the name, or its sidecar's, is taken."""
    stem = _STEM.sub("-", slugify(Path(uploaded).stem)).strip("-")[:80] or "attachment"
    name, n = f"{stem}{suffix}", 1
    while (folder / name).exists() or (folder / name).with_suffix(".yaml").exists():
        n += 1
        name = f"{stem}-{n}{suffix}"
    return name


async def upload(desk: Desk, ctx: Context, form: FormData) -> tuple[str, dict[str, str]]:
    """Check and save the upload in `form`: the new attachment's name, or '' and what is wrong with each field
    (the file's, FILE_FIELD, and each title's), in the user's language."""
    errors: dict[str, str] = {}
    titles = {lang: " ".join(str(form.get(title_field(lang), "")).split()) for lang in desk.langs}
    for lang, title in titles.items():
        if not title:
            errors[title_field(lang)] = ctx._(MESSAGES["required"])
    sent = form.get(FILE_FIELD)
    limit = desk.upload_limit
    data = await sent.read(limit + 1) if isinstance(sent, UploadFile) else b""
    uploaded = (sent.filename if isinstance(sent, UploadFile) else "") or "attachment"
    kind = None
    if not data:
        errors[FILE_FIELD] = ctx._(MESSAGES["no-file"])
    elif len(data) > limit:
        size = sent.size if isinstance(sent, UploadFile) and sent.size else len(data)
        sizes = {"size": file_size(size, ctx.lang), "limit": file_size(limit, ctx.lang)}
        errors[FILE_FIELD] = ctx._(MESSAGES["too-large"]).format(**sizes)
    else:
        try:
            kind = sniff(data, uploaded)
        except BadAttachment as exc:
            if exc.kind is None:
                errors[FILE_FIELD] = ctx._(MESSAGES["not-taken"]).format(name=uploaded)
            else:
                suffix = Path(uploaded).suffix or "–"
                right = exc.kind.suffixes[0]
                words = {"name": uploaded, "kind": exc.kind.label, "suffix": suffix, "right": right}
                errors[FILE_FIELD] = ctx._(MESSAGES["wrong-name"]).format(**words)
    if errors or kind is None:
        return "", errors
    folder = desk.content / "attachments"
    with gitstore.locked():
        folder.mkdir(parents=True, exist_ok=True)
        name = file_name(folder, uploaded, kind.suffixes[0])
        path, sidecar = folder / name, (folder / name).with_suffix(".yaml")
        try:
            gitstore.save_upload(
                desk.repo,
                path,
                data,
                sidecar,
                card_text({"title": titles}),
                f"New attachment {name} ({kind.label}): {titles[desk.langs[0]]}",
                author(ctx.user),
            )
        except gitstore.GitError as exc:
            return "", {FILE_FIELD: str(exc)}
    ctx.log("uploaded attachment", name)
    return name, {}
