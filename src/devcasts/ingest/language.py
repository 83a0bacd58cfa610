"""Language codes: normalized from what feeds declare, and detected from text when feeds mix.

py3langid is imported lazily (numpy and its model take more than a second to load, and each
text costs about half a millisecond) and only when a text's language is in doubt: a text plainly
written in the language its feed declares (most of them) is told by its function words alone.
"""

from __future__ import annotations

import re
from collections import Counter
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

# The commonest function words of the languages podcasts here mostly use. A text that is full of
# one language's and nearly free of the others' is plainly in that language: no detector would
# confidently call it anything else.
_FUNCTION_WORDS = {
    "en": """the a an and or but of to in on at for with from by about as into is are was were
        be been it its this that these those we you they he she our your their his her not no
        what which who how why when where there here have has had do does did will would can
        could should if then than so all more some up out just also over after before our us""",
    "de": """der die das den dem des ein eine einen einem einer und oder aber ist sind war waren
        nicht mit von zu zum zur auf für über wir ihr sie er es ich du auch noch wie was wenn dass
        bei aus nach vor sich uns unser unsere hat haben wird werden kann können nur schon diese
        dieser diesem in im als am an bis durch um dann so mehr sein seine ihre man dein""",
    "fr": """de le la les un une des du et ou mais est sont était avec pour par sur dans nous vous
        ils elle elles il je ce cette ces qui que quoi pas plus leur leurs notre nos votre aussi
        comme être avoir fait entre sans sous chez très tout tous a au aux en on ont ne se son sa
        ses""",
    "es": """de el la los las un una unos unas y o pero es son fue con para por sobre en del al
        nosotros vosotros ellos ella este esta estos estas que qué no más su sus nuestro también
        como ser estar hay muy todo todos entre sin desde""",
    "it": """di il lo la gli le un uno una e o ma è sono era con per su nel nella della delle degli
        dei noi voi loro lui lei questo questa questi che non più suo sua nostro anche come essere
        avere molto tutto tutti tra senza""",
    "pt": """de o a os as um uma uns umas e ou mas é são foi com para por sobre em no na nos nas do
        da dos das ao nós eles ela este esta estes estas que não mais seu sua nosso também como
        ser estar muito todo todos entre sem""",
    "nl": """de het een en of maar is zijn was waren met voor door op in van naar over wij we
        jullie zij ze hij ik dit deze die dat niet geen meer ook als hebben heeft wordt worden
        kan kunnen nog bij uit onze ons""",
}  # fmt: skip
_WORDS = {language: frozenset(words.split()) for language, words in _FUNCTION_WORDS.items()}
# For each language, each of its words -> the other languages that have it too.
_SHARED_WITH = {
    language: {
        word: tuple(other for other, w in _WORDS.items() if other != language and word in w)
        for word in own
    }
    for language, own in _WORDS.items()
}
_FOREIGN_WORDS = {
    language: frozenset().union(*(w for other, w in _WORDS.items() if other != language)) - own
    for language, own in _WORDS.items()
}
_WORD = re.compile(r"[^\W\d_]+")
_MIN_WORDS = 12
_MIN_OWN_SHARE = 0.2  # function words make 30-50 % of running text; names and jargon the rest
_MAX_FOREIGN_TO_OWN = 1 / 10
_MIN_DISTINCT = 4  # own words that the closest other language lacks
_OTHER_SCRIPT = re.compile(r"[^\x00-\u024f]")  # past Latin Extended-B


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
    sample = _sample(text)
    if len(sample) < MIN_DETECT_CHARS:
        return None
    return _classify(sample)


def detect_other_language(text: str, expected: str | None) -> str | None:
    """A language the text is confidently in when it is not `expected` (a primary subtag).

    Same answer as comparing detect_language with `expected`, without the detector for a text
    plainly written in `expected`.
    """
    sample = _sample(text)
    if len(sample) < MIN_DETECT_CHARS or (expected and plainly_in(sample, expected)):
        return None
    detected = _classify(sample)
    return detected if detected != expected else None


def plainly_in(text: str, language: str) -> bool:
    """True when the text is full of `language`'s function words, nearly free of the other
    known languages', and holds enough of its own words that no close relative shares (French
    and Portuguese share "de", "a", "que", "se"). False for languages without a word list."""
    shared_with = _SHARED_WITH.get(language)
    if shared_with is None or len(_OTHER_SCRIPT.findall(text)) * 50 > len(text):
        return False
    words = _WORD.findall(text.lower())
    if len(words) < _MIN_WORDS:
        return False
    own = list(filter(shared_with.__contains__, words))
    foreign = sum(map(_FOREIGN_WORDS[language].__contains__, words))
    if len(own) < _MIN_OWN_SHARE * len(words) or foreign > _MAX_FOREIGN_TO_OWN * len(own):
        return False
    # Own words each other language lacks: all of them, less those it has too.
    shared = Counter(other for word in own for other in shared_with[word])
    return len(own) - max(shared.values(), default=0) >= _MIN_DISTINCT


def _sample(text: str) -> str:
    return " ".join(text[:_DETECT_CHARS].split())


def _classify(sample: str) -> str | None:
    language, confidence = _identifier().classify(sample)
    return str(language) if float(confidence) >= MIN_CONFIDENCE else None


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(_CANDIDATES))
    return identifier
