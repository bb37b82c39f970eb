"""Content-addressed file storage: uploads and generated documents, kept by their SHA-256.

A file lives at `<root>/ab/cd/<sha256>` (the first two byte pairs of its hash as folders), so the
same content is stored once, a name never comes from a user, and a file is verified against its
name whenever it is read. The root is the `FILE_STORE` setting (default `<instance>/files`).
The database keeps the hash (and whatever name to show); the store keeps only bytes.
"""
import hashlib
import io
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


class FileStoreError(Exception):
    """Something is wrong with a stored file."""


class BadFileId(FileStoreError, ValueError):
    def __init__(self, sha256: object):
        self.sha256 = sha256
        super().__init__(f"{sha256!r} is not a SHA-256 (64 hex digits); stored files are named by their hash")


class FileMissing(FileStoreError, LookupError):
    def __init__(self, sha256: str, path: Path):
        self.sha256, self.path = sha256, path
        super().__init__(f"stored file {sha256} is missing (expected at {path})")


class FileCorrupted(FileStoreError):
    def __init__(self, sha256: str, actual: str, path: Path):
        self.sha256, self.actual, self.path = sha256, actual, path
        super().__init__(f"stored file {sha256} is corrupted: its content hashes to {actual} ({path})")


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    path: str  # relative to the store's root, "ab/cd/<sha256>"


class FileStore:
    """A store rooted at a folder; no Flask needed (`store()` gives the application's one)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    @staticmethod
    def relative_path(sha256: str) -> str:
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise BadFileId(sha256)
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def save(self, data: bytes) -> StoredFile:
        data = bytes(data)
        sha256 = hashlib.sha256(data).hexdigest()
        relative = self.relative_path(sha256)
        path = self.root / relative
        # Already there and intact: nothing to write. A damaged copy is replaced by the good bytes.
        if not (path.is_file() and path.stat().st_size == len(data) and _file_hash(path) == sha256):
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, data)
        return StoredFile(sha256=sha256, size=len(data), path=relative)

    def locate(self, sha256: str) -> Path:
        """The file's absolute path (for streaming it out); FileMissing when it is not there."""
        path = self.root / self.relative_path(sha256)
        if not path.is_file():
            raise FileMissing(sha256, path)
        return path

    def exists(self, sha256: str) -> bool:
        return (self.root / self.relative_path(sha256)).is_file()

    def open_bytes(self, sha256: str) -> bytes:
        path = self.locate(sha256)
        data = path.read_bytes()
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise FileCorrupted(sha256, actual, path)
        return data


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    # Written beside the target and renamed over it: a reader (or a second writer of the same
    # content in another process) never sees a half-written file.
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o640)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def store() -> FileStore:
    """The application's store: the `FILE_STORE` setting, or `<instance>/files`."""
    root = current_app.config.get("FILE_STORE") or Path(current_app.instance_path) / "files"
    return FileStore(root)


def save(data: bytes) -> StoredFile:
    return store().save(data)


def open_bytes(sha256: str) -> bytes:
    return store().open_bytes(sha256)


def sniff(data: bytes) -> str | None:
    """The content type told by the bytes themselves, or None for anything not accepted.

    Only PDF, PNG, JPEG, and OOXML word-processing and spreadsheet files (not their macro-enabled
    variants, nor any other zip) are recognized; a file's name or declared type is never trusted.
    """
    head = bytes(data[:8])
    if head.startswith(b"%PDF-"):
        return PDF
    if head == b"\x89PNG\r\n\x1a\n":
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _ooxml(data)
    return None


def _ooxml(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names:
                return None
            with archive.open("[Content_Types].xml") as f:
                types = f.read(256 * 1024)  # a real one is a few KB; never inflate a bomb
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return None
    # The main part's content type decides; the macro-enabled variants (docm, xlsm) have other ones.
    if b"wordprocessingml.document.main+xml" in types and any(n.startswith("word/") for n in names):
        return DOCX
    if b"spreadsheetml.sheet.main+xml" in types and any(n.startswith("xl/") for n in names):
        return XLSX
    return None
