"""Uploaded files told apart by their first bytes, never by the name or the type the browser claims."""
from io import SEEK_END

from werkzeug.datastructures import FileStorage

# MIME type -> (signature, name shown to people). Only types we can recognise may be accepted.
SIGNATURES: dict[str, tuple[bytes, str]] = {
    "image/jpeg": (b"\xff\xd8\xff", "JPEG"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "PNG"),
    "application/pdf": (b"%PDF-", "PDF"),
}
HEAD = max(len(signature) for signature, _name in SIGNATURES.values())


def sniff(head: bytes) -> str | None:
    """The MIME type whose signature the bytes start with, or None."""
    for content_type, (signature, _name) in SIGNATURES.items():
        if head.startswith(signature):
            return content_type
    return None


def has_file(storage) -> bool:
    # Browsers send an empty part with no file name when nothing was chosen.
    return isinstance(storage, FileStorage) and bool(storage.filename)


def inspect(storage: FileStorage) -> tuple[str | None, int]:
    """(content type by the first bytes, size in bytes), leaving the stream at its start."""
    stream = storage.stream
    stream.seek(0)
    head = stream.read(HEAD)
    stream.seek(0, SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return sniff(head), size


def client_name(storage: FileStorage) -> str:
    """The file's own name without any folder a browser may prepend (C:\\fakepath\\...)."""
    return storage.filename.replace("\\", "/").rsplit("/", 1)[-1]
