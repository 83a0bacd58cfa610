"""Which names are people: the name shape, the author fields, and the key of a person's page.

A feed's `itunes:author` / `dc:creator` often holds a network, a company, a credit line, a
user handle or a stray word. Only names shaped like a personal name ("Ada Lovelace",
"John C. Dvorak", "Felix von Leitner") become people; the rest stays the show's publisher.
Precision beats recall: a missing person page is better than a page for "Giant Bomb".
"""

from __future__ import annotations

import re

from devcasts.util.text import slugify

MAX_AUTHOR_NAMES = 4  # more names in one author field are a cast list, not the authors
MAX_NAME_WORDS = 3  # capitalised words in a name; particles and initials come on top

# Lower-case words that belong inside a name: "Felix von Leitner", "Alejandro de la Torre".
_PARTICLES = "von van der den de da di du del della dos das la le ter ten zu bin al y"
PARTICLES = frozenset(_PARTICLES.split())
_AFTER_VAN = frozenset({"der", "den"})
# Titles in front of a name, dropped: "Prof. Dr. Andreas Zeller".
HONORIFICS = frozenset({"dr", "prof", "mr", "mrs", "ms", "mx", "sir"})
# Internal capitals a surname may have: McCook, MacLeod, DeVore, LaToya, DiCaprio, O'Neill.
_INNER_CAPITALS = re.compile(r"^(?:Mc|Mac|De|Di|La|Le|Van)(?=[^\W\d_])")

# Capitalised words that are not part of a personal name: companies, products, media words,
# places, calendar words, and the words that start sentences in show notes.
_FUNCTION_WORDS = """
    a about after all also an and any are as at back be before but by can could did do does
    each every few for from get go had has have he her here his how i if in into is it its
    just last let me more most my new next no not now of off on one only or our out plus s
    she so some still such than that the their them then there these they this those through
    to today tonight too two up us via was we were what when where which while who why will
    with would yes yet you your
"""
_ORGANISATION_WORDS = """
    academy ag agency airship alliance association audio bank blog bomb bombcast books botter
    boys brand broadcast broadcasting cast channel chapter club co college collective com
    community company conference consulting corp corporation council daily deutsche design dev
    developer developers devops digital editors edition engineering enterprises entertainment
    episode episodes fm forum foundation fund geek giant gmbh group guest guests host hosts hq
    inc industries institute interactive intro lab labs league limited live llc ltd mad magazine
    management mbh media ministries music network networks news newsroom office official online
    outro part partners personal plc podcast podcasts press production productions project
    publishing radio records recordings report research sa school season services show shows
    society software solutions sound space special sports staff station studio studios systems
    team tech technologies technology time times tv university ventures video week weekly welle
    women works
"""
# Roles and job titles: "talk to Executive Producer Ada Lovelace".
_GROUP_WORDS = """
    author authors ceo cfo chief co-founder co-host co-hosts cofounder cohost coo cto customers
    designer designers director editor engineer engineers executive folks founder founders
    friends head journalist lead leaders listeners maintainer maintainers manager managers
    members officer people president producer producers product products professor reporter
    senior speakers students users vice writer
"""
_PRODUCT_WORDS = """
    amazon anchor android apple assistant aws azure chrome cloud django docker elixir firefox
    framework github gitlab google home ios ipad iphone java javascript kotlin kubernetes linux
    mac macos microsoft mozilla netflix open openai phoenix python rails react ruby rust
    serverless source spotify summit swift twitter ubuntu windows wordpress youtube
"""
_CALENDAR_WORDS = """
    january february march april may june july august september october november december monday
    tuesday wednesday thursday friday saturday sunday
"""
_PLACE_WORDS = """
    america american africa angeles asia australia berlin britain california canada china europe
    european france francisco germany india japan london los paris san silicon states united
    valley york
"""
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())
THING_WORDS = frozenset(
    (_ORGANISATION_WORDS + _GROUP_WORDS + _PRODUCT_WORDS + _CALENDAR_WORDS + _PLACE_WORDS).split()
)
STOP_WORDS = FUNCTION_WORDS | THING_WORDS


def author_names(author: str) -> tuple[str, ...]:
    """The personal names in an author field, at most MAX_AUTHOR_NAMES; none for a publisher.

    "Metaebene Personal Media - Tim Pritlove" -> ("Tim Pritlove",);
    "Steve Hicks & Justin Bennett. Edited by Aja Simpson" -> the two authors, not the editor;
    "Giant Bomb", "DW.COM | Deutsche Welle", "iPod", "zbcx" -> ().
    """
    text = _EMAIL_OR_WEB.sub(" ", author)
    text = _CREDIT.split(text, maxsplit=1)[0]
    candidates = [
        part.strip(" .()[]<>\"'“”")
        for segment in _ORGANISATION_SEPARATORS.split(text)
        for part in _NAME_SEPARATORS.split(segment)
    ]
    candidates = [part for part in candidates if part]
    if len(candidates) > MAX_AUTHOR_NAMES:
        return ()
    found: dict[str, str] = {}
    for candidate in candidates:
        name = " ".join(candidate.split())
        if looks_like_name(name):
            found.setdefault(person_key(name), name)
    return tuple(found.values())


_EMAIL_OR_WEB = re.compile(r"\S*@\S*|\b(?:https?://|www\.)\S*", re.IGNORECASE)
# "X. Edited by Y", "X, produced by Y": the words after the credit name the crew.
_CREDIT = re.compile(
    r"[.,;]?\s*\b(?:edited|produced|mixed|presented|recorded|music|artwork|hosted)\s+by\b",
    re.IGNORECASE,
)
# "Network - Host", "Company | Show", "Show: Host", "Station // Network".
_ORGANISATION_SEPARATORS = re.compile(r"\s+[-–—|:]+\s+|\s*(?://|\|)\s*|:\s+")
_NAME_SEPARATORS = re.compile(r"\s*(?:[,;&/+]|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)


def looks_like_name(text: str, max_words: int = MAX_NAME_WORDS) -> bool:
    """Two (up to max_words) capitalised name words, particles and initials between them."""
    words = text.split()
    if not 2 <= len(words) <= max_words + 2:
        return False
    first, last = words[0], words[-1]
    if not (_is_name_word(first) or _is_initials(first)) or not _is_name_word(last):
        return False
    middle = words[1:-1]
    if not all(_is_name_word(w) or _is_initial(w) or w in PARTICLES for w in middle):
        return False
    if sum(1 for w in words if _is_name_word(w)) > max_words:
        return False
    if any(w in _AFTER_VAN and words[i] not in ("van", "von", "ter") for i, w in enumerate(middle)):
        return False  # "van der Berg" is a name; "Leiter der Friedhöfe" is German prose
    return not any(_word_key(w) in STOP_WORDS for w in words if w not in PARTICLES)


def person_key(name: str) -> str:
    """One key per person: case, accents and punctuation folded ("Jérôme" is "jerome")."""
    return slugify(name)


def strip_honorifics(words: list[str]) -> list[str]:
    while words and _word_key(words[0]) in HONORIFICS:
        words = words[1:]
    return words


def is_name_word(word: str) -> bool:
    """A capitalised name word: "Ada", "O'Neill", "Heufer-Umlauf", "McCook"; not "WordPress"."""
    return _is_name_word(word)


def is_stop_word(word: str) -> bool:
    return _word_key(word) in STOP_WORDS


def is_function_word(word: str) -> bool:
    return _word_key(word) in FUNCTION_WORDS


def _word_key(word: str) -> str:
    return word.strip(".'’").casefold()


def _is_name_word(word: str) -> bool:
    if len(word) < 2 or not word[0].isupper():
        return False
    parts = re.split(r"[-'’]", word)
    if len(parts) > 3 or not all(parts):
        return False
    for index, part in enumerate(parts):
        if not part.isalpha():
            return False
        if not part[0].isupper() and not (index > 0 and part.islower() and len(part) <= 4):
            return False  # "Eun-ji" is a name; "Co-founder" is stopped as a word
        if len(part) == 1 and index == len(parts) - 1:
            return False  # "Damon Z" is a first name and an initial
        rest = _INNER_CAPITALS.sub("", part)[1:] if len(part) > 3 else part[1:]
        if rest and not rest.islower():
            return False
    return True


def _is_initial(word: str) -> bool:
    """ "C." in "John C. Dvorak"."""
    return len(word) == 2 and word[0].isalpha() and word[0].isupper() and word[1] == "."


def _is_initials(word: str) -> bool:
    """ "RJ" in "RJ Spiker": two capitals used as a first name."""
    return len(word) == 2 and word.isalpha() and word.isupper()
