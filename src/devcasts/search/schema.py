"""The search index's shape, shared by the writer and the searcher: its fields, their
weights and analyzers.

writer.py (a build) and searcher.py (the search command) both import this module and never
each other. The index format version and file names are in marker.py, which a build reads
without loading whoosh: bump SCHEMA_VERSION there on any change here.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections import Counter
from collections.abc import Generator, Iterator
from typing import Any

from whoosh import fields
from whoosh.analysis.analyzers import StandardAnalyzer, StemmingAnalyzer
from whoosh.analysis.filters import STOP_WORDS
from whoosh.formats import Positions
from whoosh.lang.porter import stem as porter_stem
from whoosh.system import pack_uint

#: Fields a query searches when it names none, with their BM25F weights.
FIELD_BOOSTS: dict[str, float] = {
    "title": 4.0,
    "tags": 2.5,
    "people": 2.0,
    "podcast": 1.5,
    "notes": 1.0,
}
#: BM25's constants, whoosh's defaults, written down because the browser ranks with them too.
BM25_B = 0.75
BM25_K1 = 1.2


class FastText(fields.TEXT):
    """A TEXT field that indexes the terms its analyzer would give, about three times faster.

    whoosh runs every word through a chain of generators and Token objects, about half the
    cost of adding a document. This field finds the words with the analyzer's own pattern and
    maps each distinct word to its term (lower case, stop words dropped, stemmed) once per
    process. Queries and highlighting still use the analyzer, so both sides agree; a test
    compares the two on arbitrary text.
    """

    def __init__(self, *, stem: bool, stoplist: frozenset[str] | None, **options: Any) -> None:
        analyzer = (
            StemmingAnalyzer(stoplist=stoplist) if stem else StandardAnalyzer(stoplist=stoplist)
        )
        super().__init__(analyzer=analyzer, **options)
        self.stem_terms = stem
        self.stoplist = stoplist

    def index(
        self, value: Any, **kwargs: Any
    ) -> Generator[tuple[bytes, int, float | int, bytes], Any, None]:
        if not isinstance(value, str) or self.format is None:
            yield from super().index(value, **kwargs)
            return
        terms = _terms_of(value, self.stem_terms, self.stoplist)
        boost: float = self.format.field_boost
        if isinstance(self.format, Positions):
            encode = self.format.encode
            single = _single_position_bytes
            for term, positions in _positions(terms).items():
                # Most words occur once in an episode: their encoding is looked up, not pickled.
                if len(positions) == 1:
                    value = single.get(positions[0]) or single.setdefault(
                        positions[0], encode(positions)
                    )
                else:
                    value = encode(positions)
                yield term.encode("utf-8"), len(positions), len(positions) * boost, value
        else:
            for term, count in Counter(term for term, _ in terms).items():
                yield term.encode("utf-8"), count, count * boost, pack_uint(count)


#: The word pattern of whoosh's RegexTokenizer, without its capturing group.
_TOKEN = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")
_TERM_CACHE_LIMIT = 200_000
#: position -> whoosh's encoding of a list holding just that position.
_single_position_bytes: dict[int, bytes] = {}
_term_cache: dict[tuple[bool, frozenset[str] | None], dict[str, str | None]] = {}


def field_terms(field: Any, text: str) -> Counter[str]:
    """term -> frequency of a text in a field, as the index holds it (field length: their sum)."""
    if isinstance(field, FastText):
        return Counter(term for term, _ in _terms_of(text, field.stem_terms, field.stoplist))
    return Counter(token.text for token in field.analyzer(text))


def field_words(field: FastText, text: str) -> Counter[tuple[str, str]]:
    """(word as written, lower-cased; its term) -> frequency, for the words a field indexes."""
    cache = _term_cache.setdefault((field.stem_terms, field.stoplist), {})
    found: Counter[tuple[str, str]] = Counter()
    for word in _TOKEN.findall(text):
        term = cache.get(word, "")
        if term == "":
            term = cache[word] = _term_of(word, field.stem_terms, field.stoplist)
        if term is not None:
            found[(word.lower(), term)] += 1
    return found


def _terms_of(text: str, stem: bool, stoplist: frozenset[str] | None) -> list[tuple[str, int]]:
    """(term, position) of each indexed word, numbered as whoosh's StopFilter renumbers."""
    cache = _term_cache.setdefault((stem, stoplist), {})
    if len(cache) > _TERM_CACHE_LIMIT:
        cache.clear()
    kept: list[tuple[str, int]] = []
    for number, word in enumerate(_TOKEN.findall(text)):
        term = cache.get(word, "")
        if term == "":
            term = cache[word] = _term_of(word, stem, stoplist)
        if term is not None:
            kept.append((term, number))
    if not kept:
        return kept
    # StopFilter keeps the first word's position and numbers the rest one after another.
    first = kept[0][1]
    return [(term, first + offset) for offset, (term, _) in enumerate(kept)]


def _term_of(word: str, stem: bool, stoplist: frozenset[str] | None) -> str | None:
    lowered = word.lower()
    if stoplist is not None and (len(lowered) < 2 or lowered in stoplist):
        return None
    return str(porter_stem(lowered)) if stem else lowered  # type: ignore[no-untyped-call]


def _positions(terms: list[tuple[str, int]]) -> dict[str, list[int]]:
    positions: dict[str, list[int]] = {}
    for term, position in terms:
        found = positions.get(term)
        if found is None:
            positions[term] = [position]
        else:
            found.append(position)
    return positions


class SortOnlyDatetime(fields.DATETIME):
    """Stored and sortable, not indexed: each episode's time would add eight terms, most of
    them found in that episode only; date filters use the `day` field instead."""

    indexed = False


def build_schema() -> fields.Schema:
    return fields.Schema(
        id=fields.ID(stored=True, unique=True, sortable=True),
        title=FastText(stem=True, stoplist=STOP_WORDS, stored=True),
        podcast=FastText(stem=True, stoplist=STOP_WORDS, stored=True),
        podcast_slug=fields.ID(stored=True),
        people=FastText(stem=False, stoplist=None),
        person_slugs=fields.KEYWORD(commas=True),
        topics=fields.KEYWORD(stored=True, commas=True),
        tags=FastText(stem=True, stoplist=STOP_WORDS),
        # Positions on the notes cost a fifth of the build time and 40% of the index, but
        # checking phrases against the stored text instead took 300 ms on common words.
        notes=FastText(stem=True, stoplist=STOP_WORDS, stored=True),
        summary=fields.STORED(),
        lang=fields.ID(),  # searched; the hit shows the stored `language`
        language=fields.STORED(),
        published=SortOnlyDatetime(stored=True, sortable=True),
        day=fields.NUMERIC(int, bits=32, shift_step=8),  # date.toordinal(), for --since/--until
        # One term per episode, not sixteen: durations are sorted on, never searched by range.
        duration=fields.NUMERIC(int, bits=64, stored=True, sortable=True, shift_step=0),
        url=fields.STORED(),
    )


def primary_language(language: str | None) -> str:
    """'en-US' -> 'en'; '' when unknown."""
    return re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]


@contextlib.contextmanager
def damage_tolerated() -> Iterator[None]:
    """whoosh leaves files open when it fails on a damaged index: failure branches inside
    this block call gc.collect() to close them, without a ResourceWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        yield
