"""Small text helpers shared by several stages (pure functions)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

from anyascii import anyascii

_NON_SLUG = re.compile(r"[^a-z0-9]+")
# Notes longer than this (in plain-text characters) are a pasted transcript or the like: the
# page folds them and the summary leaves them out. Show notes stay well under it (in 4,782
# real episodes: median 361, 99.9th percentile 5,919, longest 9,336); a one-hour transcript
# is around 50,000 characters.
LONG_NOTES_CHARS = 12_000


def slugify(text: str, max_length: int = 80) -> str:
    """ASCII, lower-case, hyphen-separated, read aloud from any script ("投资网" gives
    "tou-zi-wang", "Все для" "vse-dlya"); never empty (falls back to a short hash)."""
    return readable_slug(text, max_length) or "x-" + short_hash(text, 8)


def readable_slug(text: str, max_length: int = 80) -> str:
    """slugify's words, or "" when the text has none (only symbols, emoji, punctuation)."""
    slug = _NON_SLUG.sub("-", _transliterate(text).lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug.strip("-")


def _transliterate(text: str) -> str:
    """Latin letters for every script. A caseless syllable (a Chinese character, a Hangul
    block) becomes a word of its own, so "投资" reads "tou zi", not "touzi"; symbols and
    emoji are left out rather than spelled as their names."""
    parts: list[str] = []
    for char in text:
        if char.isascii():
            parts.append(char)
            continue
        category = unicodedata.category(char)
        if category[0] == "S":
            parts.append(" ")
        elif category == "Lo" and char.isalpha():
            parts.append(f" {_letters(char)} " if _is_syllable(char) else _letters(char))
        else:
            parts.append(_letters(char))
    return "".join(parts)


def _letters(char: str) -> str:
    """A character's Latin spelling without the marks some schemes add (' and ` for Hebrew
    and Arabic letters), which would otherwise split a word."""
    return anyascii(char).replace("'", "").replace("`", "")


def _is_syllable(char: str) -> bool:
    name = unicodedata.name(char, "")
    return name.startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HANGUL"))


def ascii_slug(text: str, max_length: int = 80) -> str:
    """The slug of earlier versions, which drops every letter outside Latin. Feeds' keys are
    still made with it: an episode's id hashes its feed's key, so the key never changes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        slug = slug[:max_length].rsplit("-", 1)[0] or slug[:max_length]
    return slug.strip("-") or "x-" + short_hash(text, 8)


def short_hash(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def is_long_notes(text: str) -> bool:
    """True when plain-text notes are too long to show unfolded (see LONG_NOTES_CHARS)."""
    return len(text) > LONG_NOTES_CHARS
