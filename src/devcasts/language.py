"""Language codes: normalized from what feeds declare, and detected from text when feeds mix.

py3langid is imported lazily (its model takes most of a second to load) and only when a feed's
episodes need it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_TAG = re.compile(r"^([a-z]{2,3})(?:[-_]([a-z0-9]{2,8}))?(?:[-_][a-z0-9]{1,8})*$", re.IGNORECASE)
_NAMES = {
    "english": "en", "german": "de", "deutsch": "de", "french": "fr", "français": "fr",
    "spanish": "es", "español": "es", "italian": "it", "dutch": "nl", "portuguese": "pt",
}  # fmt: skip
# Detection is limited to languages podcasts on this site plausibly use: fewer candidates,
# fewer false guesses on short technical texts full of English product names.
_CANDIDATES = (
    "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "ru",
    "uk", "tr", "ja", "zh", "ko", "hu", "ro", "el", "he", "ar", "hi", "id", "vi", "ca",
)  # fmt: skip
MIN_DETECT_CHARS = 80  # shorter texts are too easy to misread
MIN_CONFIDENCE = 0.95
_DETECT_CHARS = 600  # enough text to decide; the cost grows with the length


def normalize_language(raw: str) -> str | None:
    """ "en-us" -> "en-US", "DE" -> "de", "English" -> "en"; None when it is not a language tag."""
    text = raw.strip()
    named = _NAMES.get(text.lower())
    if named:
        return named
    match = _TAG.match(text)
    if not match:
        return None
    primary, region = match[1].lower(), match[2]
    if region and len(region) == 2 and region.isalpha():
        return f"{primary}-{region.upper()}"
    return primary


def primary(tag: str | None) -> str | None:
    """The primary subtag: "en-US" -> "en"."""
    return tag.split("-", 1)[0] if tag else None


def detect_language(text: str) -> str | None:
    """The language of a text when it is long enough and the guess is confident, else None."""
    sample = " ".join(text[:_DETECT_CHARS].split())
    if len(sample) < MIN_DETECT_CHARS:
        return None
    language, confidence = _identifier().classify(sample)
    return str(language) if float(confidence) >= MIN_CONFIDENCE else None


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_CANDIDATES))
    return identifier
