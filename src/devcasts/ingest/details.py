"""Small episode fields that feeds write loosely: titles as text, the base of relative links in
the notes, and the episode type."""

from __future__ import annotations

from devcasts.ingest.sanitize import clean_text, clean_url

# itunes:episodeType values worth keeping; "full" (the default) is stored as None.
EPISODE_TYPES = frozenset({"trailer", "bonus"})


def title_text(raw: str, limit: int, *, plain: bool) -> str:
    """A title as text. RSS titles may carry markup or entities (stripped and decoded); a JSON
    Feed title is text by definition, so "Die Rückkehr von <i> und <b>" keeps its "<i>"."""
    return clean_text(raw, limit, markup=not plain)


def notes_base(xml_base: str, link: str | None, document_base: str | None) -> str | None:
    """What relative links in the notes resolve against: the xml:base in scope (itself resolved
    against the document), else the episode's page (notes are often copied from it), else the
    document's URL."""
    if xml_base.strip():
        resolved = clean_url(xml_base, document_base)
        if resolved is not None:
            return resolved
    return link or document_base


def episode_type(raw: str) -> str | None:
    """ "trailer" or "bonus" (any case, stray spaces), else None: a full episode."""
    value = raw.strip().lower()
    return value if value in EPISODE_TYPES else None
