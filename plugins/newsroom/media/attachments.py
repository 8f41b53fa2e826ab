"""What kind of file an attachment really is, read from its bytes and never from its name.

A site serves its attachments from its own origin, so a file named plan.pdf that is really an HTML page or a program
must not get there; and a reader deciding whether to download wants the true type ("PDF", "XLSX") and size. The
build, `newsroom check` and the desk's upload all ask `sniff`; the same bytes give the same answer everywhere.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

HEAD = 8192  # bytes read to tell a text file from a binary one


class BadAttachment(ValueError):
    """The file is not one the newsroom publishes, or its name says another type; the message says what to do.

    `kind` is what the contents are when only the name is wrong (None: not a type the newsroom publishes)."""

    def __init__(self, message: str, kind: Kind | None = None):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Kind:
    label: str  # what readers see beside the link: "PDF", "DOCX"
    mime: str
    suffixes: tuple[str, ...]  # the name endings a file of this kind may have, the usual one first


PDF = Kind("PDF", "application/pdf", (".pdf",))
JPEG = Kind("JPEG", "image/jpeg", (".jpg", ".jpeg"))
PNG = Kind("PNG", "image/png", (".png",))
ZIP = Kind("ZIP", "application/zip", (".zip",))
CSV = Kind("CSV", "text/csv", (".csv",))
TXT = Kind("TXT", "text/plain", (".txt",))
_OOXML = (  # Office Open XML: a ZIP whose parts lie in a folder named for the program
    ("word/", Kind("DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",))),
    ("xl/", Kind("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",))),
    ("ppt/", Kind("PPTX", "application/vnd.openxmlformats-officedocument.presentationml.presentation", (".pptx",))),
)
_ODF = {  # OpenDocument: a ZIP whose first entry, 'mimetype', says what it is
    "application/vnd.oasis.opendocument.text": Kind("ODT", "application/vnd.oasis.opendocument.text", (".odt",)),
    "application/vnd.oasis.opendocument.spreadsheet": Kind(
        "ODS", "application/vnd.oasis.opendocument.spreadsheet", (".ods",)
    ),
    "application/vnd.oasis.opendocument.presentation": Kind(
        "ODP", "application/vnd.oasis.opendocument.presentation", (".odp",)
    ),
}
TAKEN = "PDF, Word, Excel, PowerPoint, OpenDocument, ZIP, CSV, plain text, JPEG or PNG"


def sniff(data: bytes, name: str) -> Kind:
    """The kind of a file with these bytes and this name, or BadAttachment saying why it cannot be published."""
    kind = _kind(data, name)
    suffix = Path(name).suffix.lower()
    if kind is None:
        raise BadAttachment(
            f"is not a file type the newsroom publishes ({_looks_like(data)}); attach a {TAKEN} file "
            "(the type is read from the file's contents, not its name)"
        )
    if suffix not in kind.suffixes:
        right = f"{Path(name).stem}{kind.suffixes[0]}"
        raise BadAttachment(
            f"is of type {kind.label} by its contents, but its name ends in '{suffix or '(nothing)'}'; rename it to '{right}' so "
            "readers' computers open it with the right program",
            kind,
        )
    return kind


def sniff_file(path: Path, max_bytes: int) -> Kind:
    """`sniff` for a file on disk, refusing one over `max_bytes` before reading it."""
    size = path.stat().st_size
    if size > max_bytes:
        raise BadAttachment(too_large(size, max_bytes))
    if size == 0:
        raise BadAttachment("is empty; copy the file again")
    return sniff(path.read_bytes(), path.name)


def too_large(size: int, max_bytes: int) -> str:
    return (
        f"is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit for an attachment "
        "(NEWSROOM_ATTACHMENT_MAX_MB); compress it or split it into parts"
    )


def _kind(data: bytes, name: str) -> Kind | None:
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    suffix = Path(name).suffix.lower()
    if suffix in CSV.suffixes + TXT.suffixes and _plain_text(data):
        return CSV if suffix in CSV.suffixes else TXT
    return None


def _zip_kind(data: bytes) -> Kind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                found = _ODF.get(archive.read("mimetype").decode("ascii", "replace").strip())
                if found:
                    return found
            if "[Content_Types].xml" in names:
                for folder, kind in _OOXML:
                    if any(n.startswith(folder) for n in names):
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return None
    return ZIP


def _plain_text(data: bytes) -> bool:
    """UTF-8 text with no NUL bytes, and not markup (a browser could run an HTML or SVG file as a page)."""
    head = data[:HEAD]
    if b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the head
            return False
        text = head[: exc.start].decode("utf-8-sig")
    return not text.lstrip().startswith("<")


def _looks_like(data: bytes) -> str:
    head = data[:HEAD].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<svg", b"<?xml", b"<")):
        return "it is markup such as an HTML or SVG page"
    if head.startswith((b"mz", b"\x7felf")):
        return "it is a program"
    if b"\x00" in head:
        return "it is a binary file of an unknown kind"
    return "it is text, but not in a .csv or .txt file"
