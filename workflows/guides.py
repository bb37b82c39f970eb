"""Applicants' guides: what a process does, its steps, the documents to have ready and the terms.

A guide is `bpmn/guides/<process key>.json`, next to the diagram it explains, so that an analyst who
changes the process changes its explanation in the same place:

    {"summary": {"ru": "...", "en": "..."},
     "steps": [{"ru": "...", "en": "..."}, ...],
     "documents": [{"ru": "...", "en": "..."}, ...],
     "terms": {"ru": "...", "en": "..."}}

Every text is given in both languages. `load_folder` refuses a guide with unknown keys or a missing
translation, naming the file and the place.
"""
import json
from dataclasses import dataclass
from pathlib import Path

from workflows.forms.definition import language

KEYS = {"summary", "steps", "documents", "terms"}


class GuideError(ValueError):
    pass


@dataclass(frozen=True)
class Guide:
    key: str
    summary: dict
    steps: tuple[dict, ...]
    documents: tuple[dict, ...]
    terms: dict | None

    def text(self, locale: str | None) -> dict:
        """The guide in one language, ready for a page."""
        lang = language(locale)
        return {"summary": self.summary[lang], "steps": [s[lang] for s in self.steps],
                "documents": [d[lang] for d in self.documents],
                "terms": self.terms[lang] if self.terms else None}


def _text(value, where: str) -> dict:
    if not isinstance(value, dict) or set(value) != {"ru", "en"} or not all(
            isinstance(v, str) and v.strip() for v in value.values()):
        raise GuideError(f"{where}: give the text as {{\"ru\": \"...\", \"en\": \"...\"}}, both filled in")
    return value


def load_file(path: Path) -> Guide:
    where = path.name
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise GuideError(f"{where}: not JSON: {error}") from None
    if not isinstance(raw, dict):
        raise GuideError(f"{where}: expected an object")
    unknown = set(raw) - KEYS
    if unknown:
        raise GuideError(f"{where}: unknown keys {', '.join(sorted(unknown))} (known: {', '.join(sorted(KEYS))})")
    for name in ("steps", "documents"):
        if not isinstance(raw.get(name), list) or not raw[name]:
            raise GuideError(f"{where}: \"{name}\" must be a non-empty list")
    return Guide(
        key=path.stem, summary=_text(raw.get("summary"), f"{where}: summary"),
        steps=tuple(_text(s, f"{where}: steps[{i}]") for i, s in enumerate(raw["steps"])),
        documents=tuple(_text(d, f"{where}: documents[{i}]") for i, d in enumerate(raw["documents"])),
        terms=_text(raw["terms"], f"{where}: terms") if "terms" in raw else None)


def load_folder(folder: Path) -> dict[str, Guide]:
    return {path.stem: load_file(path) for path in sorted(Path(folder).glob("*.json"))}
