"""What a published picture file says about itself: the photographer's credit in EXIF and XMP, and nothing private.

Derivatives are re-encoded by Pillow and carry only what we give them. Originals are rewritten without
decoding: their metadata segments (EXIF with GPS and camera serial, XMP, IPTC, comments, trailing
extra images) are dropped and the credit is put in, so the picture data stays bit for bit the same.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from xml.sax.saxutils import escape

from PIL import Image

ARTIST, COPYRIGHT, ORIENTATION = 0x013B, 0x8298, 0x0112
XMP_ID = b"http://ns.adobe.com/xap/1.0/\x00"


class DamagedFile(ValueError):
    """The file's structure is cut short or broken; the message says how, for a writer."""


def credit_exif(photographer: str, licence: str, orientation: int = 1) -> Image.Exif:
    """EXIF with Artist and Copyright only, written as UTF-8 (what ExifTool and most readers expect today)."""
    exif = Image.Exif()
    exif[ARTIST] = photographer.encode()
    exif[COPYRIGHT] = licence.encode()
    if orientation != 1:
        exif[ORIENTATION] = orientation
    return exif


def credit_xmp(photographer: str, licence: str) -> bytes:
    """An XMP packet with the creator and the rights statement (Dublin Core, XMP Rights, Photoshop credit)."""
    name, rights = escape(photographer), escape(licence)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmpRights="http://ns.adobe.com/xap/1.0/rights/" xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">'
        f"<dc:creator><rdf:Seq><rdf:li>{name}</rdf:li></rdf:Seq></dc:creator>"
        f'<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">{rights}</rdf:li></rdf:Alt></dc:rights>'
        f'<xmpRights:UsageTerms><rdf:Alt><rdf:li xml:lang="x-default">{rights}</rdf:li></rdf:Alt></xmpRights:UsageTerms>'
        f"<photoshop:Credit>{name}</photoshop:Credit>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="r"?>'
    ).encode()


def stripped(data: bytes, fmt: str, photographer: str, licence: str, orientation: int = 1) -> bytes:
    """The same picture with only its colour information, its orientation and the credit as metadata."""
    exif = credit_exif(photographer, licence, orientation).tobytes()  # b"Exif\0\0" + TIFF
    xmp = credit_xmp(photographer, licence)
    if fmt in ("JPEG", "MPO"):
        return _jpeg(data, exif, xmp)
    if fmt == "PNG":
        return _png(data, exif[6:], xmp)
    return _webp(data, exif[6:], xmp)


# --- JPEG --------------------------------------------------------------------------------------

# In entropy-coded data a 0xFF is followed by 0x00 (stuffing) or a restart marker; anything else is a marker.
_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
# Kept before the picture data: JFIF, ICC profile chunks and Adobe's colour transform flag.
_KEEP_APP = ((0xE0, b"JFIF\x00"), (0xE2, b"ICC_PROFILE\x00"), (0xEE, b"Adobe"))


def jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], int, int]:
    """The marker segments up to the first scan's header, where its data starts, and where the picture ends (after EOI)."""
    if data[:2] != b"\xff\xd8":
        raise DamagedFile("does not start like a JPEG file")
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while True:
        while pos < len(data) and data[pos] == 0xFF and pos + 1 < len(data) and data[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 4 > len(data):
            raise DamagedFile("is cut short: the file ends inside its header")
        if data[pos] != 0xFF:
            raise DamagedFile("is damaged: its header is broken")
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        end = pos + 2 + length
        if end > len(data):
            raise DamagedFile("is cut short: the file ends inside its header")
        segments.append((marker, data[pos:end]))
        pos = end
        if marker == 0xDA:  # start of scan: picture data follows
            break
    scan = pos
    while True:
        found = _MARKER.search(data, pos)
        if found is None:
            raise DamagedFile("is cut short: the file ends before the picture does")
        marker = data[found.start() + 1]
        if marker == 0xD9:
            return segments, scan, found.end()
        if found.end() + 2 > len(data):
            raise DamagedFile("is cut short: the file ends before the picture does")
        # Another table or scan of a progressive JPEG: skip its segment.
        length = struct.unpack(">H", data[found.end() : found.end() + 2])[0]
        pos = found.end() + length
        if pos <= scan:
            raise DamagedFile("is damaged: its picture data is broken")


def _jpeg(data: bytes, exif: bytes, xmp: bytes) -> bytes:
    segments, scan, end = jpeg_segments(data)
    kept = [(marker, segment) for marker, segment in segments if not _is_metadata(marker, segment)]
    jfif = [segment for marker, segment in kept[:1] if marker == 0xE0]
    rest = [segment for _, segment in kept[len(jfif) :]]
    # Picture data up to the first EOI; what follows it (MPO extra frames, phone trailers) is dropped.
    return b"".join([b"\xff\xd8", *jfif, _app1(exif), _app1(XMP_ID + xmp), *rest, data[scan:end]])


def _is_metadata(marker: int, segment: bytes) -> bool:
    """Comments and APPn segments other than JFIF, ICC profile and Adobe (EXIF, XMP, IPTC, MPF, maker data)."""
    if marker == 0xFE:
        return True
    return 0xE0 <= marker <= 0xEF and not any(
        marker == keep and segment[4 : 4 + len(sig)] == sig for keep, sig in _KEEP_APP
    )


def _app1(payload: bytes) -> bytes:
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


# --- PNG ---------------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Everything a decoder needs to show the picture in the right colours; text, EXIF and time chunks go.
_PNG_KEEP = {
    b"IHDR",
    b"PLTE",
    b"IDAT",
    b"IEND",
    b"tRNS",
    b"cHRM",
    b"gAMA",
    b"iCCP",
    b"sBIT",
    b"sRGB",
    b"cICP",
    b"bKGD",
    b"pHYs",
    b"acTL",
    b"fcTL",
    b"fdAT",
}


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole chunk) up to IEND, with lengths and checksums verified."""
    if data[:8] != PNG_SIGNATURE:
        raise DamagedFile("does not start like a PNG file")
    chunks, pos = [], 8
    while True:
        if pos + 12 > len(data):
            raise DamagedFile("is cut short: the file ends before the picture does")
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise DamagedFile("is cut short: the file ends before the picture does")
        if zlib.crc32(data[pos + 4 : end - 4]) != struct.unpack(">I", data[end - 4 : end])[0]:
            raise DamagedFile(f"is damaged: its {kind.decode('latin-1')} chunk fails its checksum")
        chunks.append((kind, data[pos:end]))
        pos = end
        if kind == b"IEND":
            return chunks


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _png(data: bytes, tiff: bytes, xmp: bytes) -> bytes:
    out, credited = [PNG_SIGNATURE], False
    for kind, chunk in png_chunks(data):
        if kind == b"IDAT" and not credited:
            out += [_png_chunk(b"eXIf", tiff), _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp)]
            credited = True
        if kind in _PNG_KEEP:
            out.append(chunk)
    return b"".join(out)


# --- WebP --------------------------------------------------------------------------------------

_VP8X_ALPHA, _VP8X_EXIF, _VP8X_XMP = 0x10, 0x08, 0x04


def webp_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(FourCC, payload) of a WebP file, with the RIFF size checked against the file."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise DamagedFile("does not start like a WebP file")
    if struct.unpack("<I", data[4:8])[0] + 8 > len(data):
        raise DamagedFile("is cut short: the file ends before the picture does")
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        kind, length = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if pos + 8 + length > len(data):
            raise DamagedFile("is cut short: the file ends before the picture does")
        chunks.append((kind, data[pos + 8 : pos + 8 + length]))
        pos += 8 + length + (length & 1)
    return chunks


def _riff_chunk(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


def _webp(data: bytes, tiff: bytes, xmp: bytes) -> bytes:
    chunks = [(kind, payload) for kind, payload in webp_chunks(data) if kind not in (b"EXIF", b"XMP ")]
    if chunks[0][0] == b"VP8X":
        flags, canvas = chunks[0][1][0], chunks[0][1][4:10]
        chunks = chunks[1:]
    else:  # a simple file: the extended header that allows metadata must be added
        with Image.open(io.BytesIO(data)) as opened:
            width, height, alpha = opened.width, opened.height, opened.mode == "RGBA"
        flags = _VP8X_ALPHA if alpha else 0
        canvas = (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    flags = (flags & ~(_VP8X_EXIF | _VP8X_XMP)) | _VP8X_EXIF | _VP8X_XMP
    body = _riff_chunk(b"VP8X", bytes([flags, 0, 0, 0]) + canvas)
    body += b"".join(_riff_chunk(kind, payload) for kind, payload in chunks)
    body += _riff_chunk(b"EXIF", tiff) + _riff_chunk(b"XMP ", xmp)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body
