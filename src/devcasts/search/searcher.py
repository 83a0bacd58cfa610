"""Full-text search over the archive: the whoosh index in the cache directory, read.

`search` answers a `SearchRequest` with BM25F ranking, filters, snippets and a "did you
mean" taken from the index's own words. The fields are defined in schema.py; the index is
written by writer.py, which a search never imports.

This module is on the search command's import path: it imports whoosh only (no feedparser,
jinja2, httpx or nh3, nor the model's dataclasses), so `devcasts search` starts fast.
Figures and what made them are in benchmarks/RESULTS.md, "Search index".
"""

from __future__ import annotations

import functools
import gc
import itertools
import math
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from whoosh import fields, highlight, index, scoring, sorting
from whoosh.analysis.analyzers import Analyzer, StemmingAnalyzer
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.collectors import TimeLimitCollector
from whoosh.columns import NumericColumn
from whoosh.qparser.default import MultifieldParser, QueryParser
from whoosh.qparser.plugins import FieldAliasPlugin, FuzzyTermPlugin
from whoosh.query.compound import And, Or
from whoosh.query.qcore import Every, Query
from whoosh.query.ranges import NumericRange
from whoosh.query.terms import FuzzyTerm, MultiTerm, Term
from whoosh.query.wrappers import Not
from whoosh.searching import TimeLimit
from whoosh.util.numeric import byte_to_length

from devcasts.errors import DevcastsError
from devcasts.search.marker import INDEX_NAME, SCHEMA_VERSION, has_toc, read_marker
from devcasts.search.schema import (
    BM25_B,
    BM25_K1,
    FIELD_BOOSTS,
    build_schema,
    damage_tolerated,
    primary_language,
)

#: Field names users may write in a query (`topic:heroku`) and what they search.
FIELD_ALIASES: dict[str, list[str]] = {
    "tags": ["topic", "topics"],
    "people": ["person", "guest", "host"],
    "podcast": ["show"],
    "notes": ["text"],
    "lang": ["language"],
}
QUERY_FIELDS = (*FIELD_BOOSTS, "lang")

MAX_QUERY_CHARS = 500
SNIPPET_CHARS = 220
OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
BINARY_OPERATORS = OPERATORS - {"NOT"}

Sort = Literal["relevance", "newest"]
#: A piece of a snippet: its text and whether it matched the query.
Segment = tuple[str, bool]


class SearchError(DevcastsError):
    """A search could not run; the message says why and what to do."""


class QuerySyntaxError(SearchError):
    """The query is malformed (exit code 2)."""


class IndexMissingError(SearchError):
    """There is no usable index yet (exit code 1)."""


# Records are named tuples, not dataclasses: importing dataclasses (and inspect with it)
# and creating each class cost every search process about 8 ms.


class SearchRequest(NamedTuple):
    query: str
    limit: int = 10
    podcast: str | None = None  # podcast slug (or its title: it is slugified)
    topic: str | None = None  # topic slug
    person: str | None = None  # person's name or slug
    since: date | None = None  # inclusive
    until: date | None = None  # inclusive
    lang: str | None = None  # language code; "en" matches "en-US"
    sort: Sort = "relevance"


class Hit(NamedTuple):
    id: str
    title: str
    podcast: str  # display title
    podcast_slug: str
    published: datetime  # UTC
    url: str  # the episode page on the site
    score: float
    snippet: tuple[Segment, ...]
    topics: tuple[str, ...] = ()
    duration: int | None = None
    language: str | None = None

    @property
    def snippet_text(self) -> str:
        return "".join(text for text, _ in self.snippet)

    @property
    def snippet_marked(self) -> str:
        """The snippet with matches in [[double brackets]]."""
        return "".join(f"[[{text}]]" if match else text for text, match in self.snippet)


class SearchResponse(NamedTuple):
    hits: list[Hit]
    total: int
    suggestion: str | None = None  # "did you mean", from the index's own words
    corrected: bool = False  # the hits answer the suggestion or a fuzzy retry, not the query
    total_exact: bool = True  # False: `total` is an upper estimate (broad queries)
    notices: tuple[str, ...] = ()  # how the query was narrowed or cut short, for the user
    # No episode has every word: the hits have `matched` of the query's `words` words.
    partial: tuple[int, int] | None = None  # (matched, words)


# --- searching ------------------------------------------------------------------------------


def search(index_dir: Path, request: SearchRequest) -> SearchResponse:
    """Run one search; raises QuerySyntaxError or IndexMissingError with a clear message.
    It stops after SEARCH_SECONDS of matching, and every word pattern stands for at most
    MAX_EXPANSIONS index words; the response's notices say when either bound was reached."""
    schema = build_schema()
    parser = make_parser(schema)
    parsed = parse_query(parser, request.query)
    ix = _open_for_search(index_dir, schema)
    with damage_tolerated():
        try:
            weighting = LengthTableBM25F(B=BM25_B, K1=BM25_K1)  # as the browser ranks
            with ix.searcher(weighting=weighting) as searcher:
                budget = Budget(SEARCH_SECONDS)
                if _asked_distance(request.query) > MAX_FUZZY_DISTANCE:
                    budget.note(_distance_note(_asked_distance(request.query)))
                bounded = bound_query(searcher.reader(), parsed, budget)
                hits, total, exact = _run(searcher, bounded, request, budget)
                if total or not request.query.strip() or budget.ran_out:
                    return SearchResponse(hits, total, total_exact=exact, notices=budget.notes())
                return _retry(searcher, parser, parsed, request, budget)
        except (DevcastsError, TypeError, AttributeError, NameError):
            raise  # ours to report, or a bug to see, not a damaged index
        except Exception as error:  # a damaged segment shows up only when read
            failure = type(error).__name__
        del ix
        gc.collect()
    raise _unreadable(index_dir, failure)


def _open_for_search(index_dir: Path, schema: fields.Schema) -> index.Index:
    """The index, read with `schema` (the marker vouches that it is the one the index was
    written with) rather than unpickling the copy whoosh keeps in its table of contents."""
    version = read_marker(index_dir)
    if version is None or not has_toc(index_dir):
        raise IndexMissingError(
            f"no search index in {index_dir}; build the site first (python build.py)"
        )
    if version != SCHEMA_VERSION:
        raise IndexMissingError(
            f"the search index in {index_dir} is from an older version; "
            "rebuild it with python build.py"
        )
    with damage_tolerated():
        try:
            return index.open_dir(str(index_dir), indexname=INDEX_NAME, schema=schema)
        except Exception as error:
            failure = type(error).__name__
        gc.collect()
    raise _unreadable(index_dir, failure)


class LengthTableBM25F(scoring.BM25F):
    """whoosh's BM25F, reading each segment's field lengths once instead of per document.

    whoosh looks a matching document's field length up with a seek and a one-byte read: for
    two words found in most of 100,000 episodes, which leave little to skip, that was a
    quarter of the search's time. Here a segment's length bytes of a field are read in one
    piece the first time a word of that field is scored; the scores are the same.
    """

    def __init__(self, **options: float) -> None:
        super().__init__(**options)
        self._lengths: dict[tuple[int, str], Any] = {}

    def scorer(self, searcher: Any, fieldname: str, text: str, qf: int = 1) -> Any:
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        if isinstance(scorer, scoring.BM25FScorer):
            reader = searcher.reader()
            key = (id(reader), fieldname)
            if key not in self._lengths:  # the reader lives as long as the search
                self._lengths[key] = _field_lengths(reader, fieldname)
            if self._lengths[key] is not None:
                scorer.dfl = self._lengths[key]
        return scorer


#: A length as whoosh stores it (one byte, on a log scale) -> the length it stands for.
_BYTE_LENGTHS = tuple(byte_to_length(byte) for byte in range(256))


def _field_lengths(reader: Any, fieldname: str) -> Any:
    """docnum -> the field's length in one segment, as whoosh's `doc_field_length` reads it;
    None when this reader's lengths cannot be read in one piece."""
    perdoc = getattr(reader, "_perdoc", None)
    column_name = f"_{fieldname}_len"
    if perdoc is None or not perdoc.has_column(column_name):
        return None
    column = perdoc.column_reader(column_name, LENGTHS_COLUMN)
    if type(column) is not NumericColumn.Reader:
        return None
    raw = column._dbfile.get(column._basepos, column._count)
    table = _BYTE_LENGTHS
    return lambda docnum: table[raw[docnum]] if docnum < len(raw) else 0


def _unreadable(index_dir: Path, failure: str) -> IndexMissingError:
    return IndexMissingError(
        f"the search index in {index_dir} cannot be read ({failure}); "
        "rebuild it with python build.py"
    )


def make_parser(schema: fields.Schema) -> QueryParser:
    parser = MultifieldParser(list(FIELD_BOOSTS), schema, fieldboosts=FIELD_BOOSTS)
    parser.add_plugin(FieldAliasPlugin(FIELD_ALIASES))  # type: ignore[no-untyped-call]
    parser.add_plugin(FuzzyTermPlugin())  # type: ignore[no-untyped-call]
    return parser


_FIELD_PREFIX = re.compile(r"(?:^|[\s(])([A-Za-z_]+):(?!//)")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


def parse_query(parser: QueryParser, text: str) -> Query:
    """Parse a user's query; an empty one matches every episode (for filter-only searches)."""
    if not text.strip():
        return Every()  # type: ignore[no-untyped-call]
    text = cap_fuzzy_distances(minus_as_not(text))
    check_query_syntax(text)
    try:
        parsed: Query = parser.parse(text)
    except Exception as error:
        raise QuerySyntaxError(f"cannot read the query {text!r}: {error}") from error
    for node in _walk(parsed):
        message = getattr(node, "error", None)
        if message:
            raise QuerySyntaxError(f"cannot read the query {text!r}: {message}")
    return parsed


_FUZZY_DISTANCE = re.compile(r"(?<=\S)~([0-9]+)")


def cap_fuzzy_distances(text: str) -> str:
    """`word~99` -> `word~2` (whoosh would read `word~9` and then a word `9`)."""
    return _FUZZY_DISTANCE.sub(lambda m: f"~{min(int(m.group(1)), MAX_FUZZY_DISTANCE)}", text)


def _asked_distance(text: str) -> int:
    return max((int(m.group(1)) for m in _FUZZY_DISTANCE.finditer(text)), default=0)


_LEADING_MINUS = re.compile(r'(?:^|(?<=[\s(]))-+(?=[^\W_]|["(])')


def minus_as_not(text: str) -> str:
    """`-heroku` means NOT heroku, as in most search boxes (whoosh would drop the minus);
    a hyphen inside a word (`x-ray`) or a phrase is left alone."""
    pieces = re.split(r'("[^"]*")', text)
    return "".join(
        piece if piece.startswith('"') else _LEADING_MINUS.sub("NOT ", piece) for piece in pieces
    )


def check_query_syntax(text: str) -> None:
    """Reject what whoosh would silently misread, with a message that says how to fix it."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"the query is too long (over {MAX_QUERY_CHARS} characters)")
    if text.count('"') % 2:
        raise QuerySyntaxError('unbalanced quote: close the phrase with a second "')
    _check_parentheses(text)
    _check_operators(text)
    known = {*QUERY_FIELDS, *(a for aliases in FIELD_ALIASES.values() for a in aliases)}
    for match in _FIELD_PREFIX.finditer(_without_phrases(text)):
        name = match.group(1)
        if name.lower() not in known:
            raise QuerySyntaxError(
                f"unknown field {name!r} in the query; use one of: "
                + ", ".join(sorted(n for n in known if n not in {"tags"}))
            )


def _check_parentheses(text: str) -> None:
    depth = 0
    for char in _without_phrases(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise QuerySyntaxError("a ')' closes a group that was never opened")
    if depth:
        raise QuerySyntaxError("unbalanced parenthesis: a '(' is never closed")


def _check_operators(text: str) -> None:
    tokens = re.findall(r"\(|\)|[^\s()]+", _without_phrases(text))
    previous = None
    for position, token in enumerate(tokens):
        if token in BINARY_OPERATORS and (previous is None or previous in OPERATORS | {"("}):
            raise QuerySyntaxError(f"{token} needs a word or phrase on its left")
        if token in OPERATORS and (position == len(tokens) - 1 or tokens[position + 1] == ")"):
            raise QuerySyntaxError(f"{token} needs a word or phrase on its right")
        previous = token


def _without_phrases(text: str) -> str:
    return re.sub(r'"[^"]*"', ' "x" ', text)


def _walk(node: Query) -> Iterator[Query]:
    yield node
    for child in node.children():
        yield from _walk(child)


def _slug(text: str) -> str:
    # Imported only for a filter that needs it: loading its transliteration tables cost
    # every search process 7-12 ms.
    from devcasts.util.text import slugify

    return slugify(text)


def _filters(request: SearchRequest) -> Query | None:
    clauses: list[Query] = []
    if request.podcast:
        clauses.append(Term("podcast_slug", _slug(request.podcast)))
    if request.topic:
        clauses.append(Term("topics", request.topic.strip().lower()))
    if request.person:
        clauses.append(Term("person_slugs", _slug(request.person)))
    if request.lang:
        clauses.append(Term("lang", primary_language(request.lang)))
    if request.since or request.until:
        first = request.since.toordinal() if request.since else None
        last = request.until.toordinal() if request.until else None
        clauses.append(NumericRange("day", first, last))
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else And(clauses)


def _newest_first() -> Any:
    return sorting.MultiFacet(
        [sorting.FieldFacet("published", reverse=True), sorting.FieldFacet("id")]
    )


TIE_WINDOW = 20  # extra hits fetched so equal scores can be ordered by date, then id
EXACT_COUNT_UP_TO = 5000  # episodes; in bigger indexes broad queries report an estimate


def _run(
    searcher: Any, parsed: Query, request: SearchRequest, budget: Budget
) -> tuple[list[Hit], int, bool]:
    """The page of hits, the total and whether it is exact; the same order on every run."""
    limit = max(1, min(request.limit, 1000))
    only = _filters(request)
    if request.sort == "newest" or isinstance(parsed, Every):
        ranked = _collect(
            searcher, parsed, budget, limit=limit, filter=only, sortedby=_newest_first()
        )
        docnums = [result.docnum for result in ranked]
        scores = _scores_of(searcher, parsed, docnums, budget)
        picked = [(result, scores.get(result.docnum, 0.0)) for result in ranked]
    else:
        # A plain top-N search lets whoosh skip blocks that cannot make the cut.
        ranked = _collect(searcher, parsed, budget, limit=limit + TIE_WINDOW, filter=only)
        picked = _break_ties(searcher, ranked)[:limit]
    notes_terms = _field_terms(parsed, "notes")
    summary_terms = notes_terms | _field_terms(parsed, "title")
    hits = [_hit(result, score, notes_terms, summary_terms) for result, score in picked]
    # Counting every match of a broad query in a big index costs a third of its time:
    # estimate instead.
    if budget.ran_out:  # counting would run the query again, with no time limit
        return hits, max(ranked.scored_length(), len(hits)), False
    if ranked.has_exact_length() or len(hits) < limit or searcher.doc_count() <= EXACT_COUNT_UP_TO:
        return hits, len(ranked), True
    return hits, max(ranked.estimated_length(), len(hits)), False


def _break_ties(searcher: Any, ranked: Any) -> list[tuple[Any, float]]:
    """Hits by score, then newest first, then by id: the same order on every run. The date
    comes from a column (stored fields would load the notes); the id, whose column costs a
    read of every document's offset, only for hits tied on both."""
    published = searcher.reader().column_reader("published", translate=False)
    keyed = [
        ((-round(float(result.score), 4), -published[result.docnum]), result) for result in ranked
    ]
    tied = Counter(key for key, _ in keyed)
    keyed.sort(key=lambda pair: (pair[0], pair[1]["id"] if tied[pair[0]] > 1 else ""))
    return [(result, -key[0] + 0.0) for key, result in keyed]


def _scores_of(
    searcher: Any, parsed: Query, docnums: list[int], budget: Budget
) -> dict[int, float]:
    """BM25F scores of a few documents, for hits ordered by date."""
    if not docnums or isinstance(parsed, Every):
        return {}
    scored = _collect(searcher, parsed, budget, limit=len(docnums), filter=set(docnums))
    return {result.docnum: round(float(result.score), 4) + 0.0 for result in scored}


def _field_terms(parsed: Query, fieldname: str) -> frozenset[str]:
    words = set()
    for name, text in parsed.iter_all_terms():
        if name == fieldname:
            words.add(text.decode("utf-8") if isinstance(text, bytes) else str(text))
    return frozenset(words)


def _hit(
    result: Any, score: float, notes_terms: frozenset[str], summary_terms: frozenset[str]
) -> Hit:
    stored = result.fields()
    published: datetime = stored["published"]
    return Hit(
        id=stored["id"],
        title=stored["title"],
        podcast=stored["podcast"],
        podcast_slug=stored["podcast_slug"],
        published=published.replace(tzinfo=UTC),
        url=stored["url"],
        score=score,
        snippet=make_snippet(stored.get("notes", ""), stored.get("summary", ""), notes_terms)
        or make_snippet(stored.get("summary", ""), "", summary_terms),
        topics=tuple(t for t in stored.get("topics", "").split(",") if t),
        duration=stored.get("duration"),
        language=stored.get("language") or None,
    )


def _as_segments(text: str, fragments: Iterable[Any]) -> list[Segment]:
    """Formats fragments as (text, is_match) segments instead of markup (whoosh calls a
    formatter with the text and the fragments)."""
    segments: list[Segment] = []
    for number, fragment in enumerate(fragments):
        if number:
            segments.append((" … ", False))
        position = fragment.startchar
        for token in sorted(fragment.matches, key=lambda t: t.startchar):
            if token.startchar < position:
                continue
            segments.append((fragment.text[position : token.startchar], False))
            segments.append((fragment.text[token.startchar : token.endchar], True))
            position = token.endchar
        segments.append((fragment.text[position : fragment.endchar], False))
    return segments


@functools.cache
def _analyzer() -> Analyzer:
    """The analyzer of the stemmed fields, for snippets and suggestions."""
    return StemmingAnalyzer()


def make_snippet(text: str, fallback: str, terms: frozenset[str]) -> tuple[Segment, ...]:
    """Up to two passages of `text` around the query's words; else the start of `fallback`."""
    segments: list[Segment] = []
    if text and terms:
        segments = highlight.highlight(  # type: ignore[assignment]
            text,
            terms,
            _analyzer(),
            highlight.ContextFragmenter(maxchars=SNIPPET_CHARS // 2, surround=50),
            _as_segments,
            top=2,
        )
    if not segments and fallback:
        segments = [(_shorten(fallback), False)]
    return tuple(_clean_segments(segments))


def _clean_segments(segments: Sequence[Segment]) -> Iterator[Segment]:
    for text, match in segments:
        flat = " ".join(text.split())
        if text[:1].isspace():
            flat = " " + flat
        if text[-1:].isspace() and flat.strip():
            flat += " "
        if flat:
            yield flat, match


def _shorten(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    return flat[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"


# --- when nothing matches -------------------------------------------------------------------


def _retry(
    searcher: Any, parser: QueryParser, parsed: Query, request: SearchRequest, budget: Budget
) -> SearchResponse:
    """Nothing matched: try the spelling the index suggests, then the episodes that have most
    of the words, then a fuzzy match (while the search's time lasts)."""
    reader = searcher.reader()
    suggestion = suggest_query(reader, request.query) if budget.left() > 0 else None
    corrected: Query | None = None
    if suggestion:
        try:
            corrected = bound_query(reader, parse_query(parser, suggestion), budget)
            hits, total, exact = _run(searcher, corrected, request, budget)
        except QuerySyntaxError:
            hits, total, exact, suggestion, corrected = [], 0, True, None, None
        if total:
            return SearchResponse(
                hits, total, suggestion, True, total_exact=exact, notices=budget.notes()
            )
    asked_all = "AND" in re.findall(r"\S+", _without_phrases(suggestion or request.query))
    partial = None if asked_all else _most_words(searcher, corrected or parsed, request, budget)
    if partial is not None:
        hits, total, exact, matched, words = partial
        return SearchResponse(
            hits,
            total,
            suggestion,
            corrected is not None,
            total_exact=exact,
            notices=budget.notes(),
            partial=(matched, words),
        )
    fuzzy = _fuzzy(reader, parsed) if budget.left() > 0 else None
    if fuzzy is not None:
        hits, total, exact = _run(searcher, bound_query(reader, fuzzy, budget), request, budget)
        if total:
            return SearchResponse(
                hits, total, suggestion, True, total_exact=exact, notices=budget.notes()
            )
    return SearchResponse([], 0, suggestion, notices=budget.notes())


#: Sub-queries one "k of n words" fallback may run as (one per choice of k words); past it
#: the fallback goes straight to "any of the words".
MAX_WORD_CHOICES = 64


def _most_words(
    searcher: Any, parsed: Query, request: SearchRequest, budget: Budget
) -> tuple[list[Hit], int, bool, int, int] | None:
    """The episodes that have the most of the query's words, when none has them all: first
    those with all but one, then all but two, down to one. Exclusions (NOT) still hold. A hit
    with more of the words scores higher, as it matches more of the sub-queries. A query that
    says AND in so many words is taken at its word, and is not relaxed."""
    if not isinstance(parsed, And):
        return None
    excluded = [clause for clause in parsed.subqueries if isinstance(clause, Not)]
    words = [clause for clause in parsed.subqueries if not isinstance(clause, Not)]
    for wanted in range(len(words) - 1, 0, -1):
        if budget.left() <= 0:
            return None
        if wanted > 1 and math.comb(len(words), wanted) > MAX_WORD_CHOICES:
            continue
        choices = [
            And([*chosen, *excluded]) if len(chosen) > 1 or excluded else chosen[0]
            for chosen in itertools.combinations(words, wanted)
        ]
        hits, total, exact = _run(searcher, Or(choices), request, budget)
        if total:
            return hits, total, exact, wanted, len(words)
    return None


def suggest_query(reader: Any, text: str) -> str | None:
    """The query with each word the index does not know replaced by its closest known word."""
    changed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group(0)
        stem = _stem(word)
        if word in OPERATORS or len(stem) < 3 or _known(reader, stem):
            return word
        better = _closest_term(reader, word.lower(), stem)
        surface = _surface_form(reader, better) if better else None
        if surface is None:
            return word
        changed = True
        return surface

    # Field names (`topic:`) are left alone: only the words after them are corrected.
    corrected = re.sub(r"(?<![\w:])" + _WORD.pattern + r"(?![\w:'’])", replace, text)
    return corrected if changed else None


# Suggestions come from the stemmed title and notes terms; a separate unstemmed spelling
# field would cost a third of the indexing time for a feature used only on empty results.
_SUGGEST_FIELDS = ("title", "notes")


def _stem(word: str) -> str:
    tokens = [t.text for t in _analyzer()(word, mode="query", removestops=False)]
    return tokens[0] if len(tokens) == 1 else word.lower()


def _known(reader: Any, stem: str) -> bool:
    return any((name, stem) in reader for name in _SUGGEST_FIELDS)


def _closest_term(reader: Any, word: str, stem: str) -> str | None:
    """The indexed term nearest to the word (or its stem): fewest edits, then most used."""
    distances = (1,) if len(word) <= 4 else (1, 2)
    for distance in distances:
        for probe in dict.fromkeys((word, stem)):
            candidates: set[str] = set()
            for name in _SUGGEST_FIELDS:
                candidates.update(reader.terms_within(name, probe, distance, prefix=1))
            if candidates:
                return min(candidates, key=lambda c: (-_frequency(reader, c), c))
    return None


def _frequency(reader: Any, term: str) -> int:
    return sum(reader.doc_frequency(name, term) for name in _SUGGEST_FIELDS)


def _surface_form(reader: Any, stem: str) -> str | None:
    """A word as written in some episode whose stem is `stem` ('kubernet' -> 'kubernetes')."""
    for name in _SUGGEST_FIELDS:
        if (name, stem) not in reader:
            continue
        docnum = next(iter(reader.postings(name, stem).all_ids()))
        text = reader.stored_fields(docnum).get(name, "")
        for match in _WORD.finditer(text):
            if _stem(match.group(0)) == stem:
                return match.group(0).lower()
    return None


def _fuzzy(reader: Any, parsed: Query) -> Query | None:
    """The query with each term the index does not know widened to its close spellings."""
    changed = False

    def widen(node: Query) -> Query:
        nonlocal changed
        if isinstance(node, Not):
            return node  # widening an exclusion would exclude more than was asked
        if type(node) is Term:
            if len(str(node.text)) >= 4 and (node.fieldname, node.text) not in reader:
                changed = True
                return FuzzyTerm(node.fieldname, node.text, boost=node.boost, maxdist=1)
            return node
        return node.apply(widen)

    widened = widen(parsed)
    return widened if changed else None


# --- bounds: no query runs away -------------------------------------------------------------

#: Fuzzy words (`kubernetes~2`) allow at most this many edits; more matched nearly every word
#: of the index (`kubernetes~99` took 103 s and 481 MB on 20,000 episodes).
MAX_FUZZY_DISTANCE = 2
#: Index words that one prefix, wildcard, fuzzy word or range may stand for in one field:
#: the most used ones are kept.
MAX_EXPANSIONS = 32
#: Index words all the patterns of one query may stand for together.
MAX_EXPANDED_WORDS = 1000
#: Seconds a search may spend matching (and expanding patterns) before it stops with the
#: hits found so far.
SEARCH_SECONDS = 5.0
_SCAN_CHECK_EVERY = 512  # index words scanned between two looks at the clock


class Budget:
    """What one search may still spend, and what it had to leave out, told to the user."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.words_left = MAX_EXPANDED_WORDS
        self.ran_out = False
        self._notes: dict[str, None] = {}

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def note(self, message: str) -> None:
        self._notes[message] = None

    def notes(self) -> tuple[str, ...]:
        if self.ran_out:
            self.note(
                f"the search stopped after {self.seconds:g} s and shows what it found by "
                "then; use fewer or longer wildcard words"
            )
        return tuple(self._notes)


def _collect(searcher: Any, query: Query, budget: Budget, **options: Any) -> Any:
    """whoosh's search with a time limit: past it, the hits collected so far. The limit is
    checked between matches rather than by SIGALRM, which the caller may be using."""
    collector = searcher.collector(**options)
    timed = TimeLimitCollector(collector, max(budget.left(), 0.001), use_alarm=False)
    try:
        searcher.search_with_collector(query, timed)
    except TimeLimit:
        budget.ran_out = True
    return collector.results()


def bound_query(reader: Any, parsed: Query, budget: Budget) -> Query:
    """The query with each fuzzy distance capped, each pattern expanded to at most
    MAX_EXPANSIONS words, and `*` read as every episode."""

    def bound(node: Query) -> Query:
        if isinstance(node, Every):
            return Every()  # type: ignore[no-untyped-call]  # a field's Every reads all its terms
        if isinstance(node, MultiTerm) and not isinstance(node, Expansion):
            return _expand(reader, node, budget)
        return node.apply(bound)

    return bound(parsed)


def _expand(reader: Any, node: MultiTerm, budget: Budget) -> Query:
    if isinstance(node, FuzzyTerm) and node.maxdist > MAX_FUZZY_DISTANCE:
        budget.note(_distance_note(node.maxdist))
        node = FuzzyTerm(
            node.fieldname,
            node.text,
            boost=node.boost,
            maxdist=MAX_FUZZY_DISTANCE,
            prefixlength=node.prefixlength,
        )
    fieldname = str(node.field())
    found: list[bytes] = []
    for count, word in enumerate(node._btexts(reader)):  # whoosh's own expansion
        if count % _SCAN_CHECK_EVERY == 0 and budget.left() <= 0:
            budget.ran_out = True
            break
        found.append(word if isinstance(word, bytes) else str(word).encode("utf-8"))
    allowed = min(MAX_EXPANSIONS, budget.words_left)
    if len(found) > allowed:
        found.sort(key=lambda word: (-reader.doc_frequency(fieldname, word), word))
        budget.note(
            f"{_pattern_text(node)} stands for more than {allowed} words; "
            "the most used were searched"
        )
        found = found[:allowed]
    budget.words_left -= len(found)
    return Expansion(fieldname, _pattern_text(node), tuple(sorted(found)), node)


def _distance_note(asked: int) -> str:
    return f"a fuzzy word allows at most {MAX_FUZZY_DISTANCE} edits (~{asked} was asked)"


def _pattern_text(node: MultiTerm) -> str:
    if isinstance(node, FuzzyTerm):
        return f"{node.text}~{node.maxdist}"
    return str(getattr(node, "text", "the range"))


class Expansion(MultiTerm):
    """A pattern already expanded to a bounded list of index words; scored as the pattern
    was (a prefix or wildcard with a constant score, a fuzzy word by BM25F)."""

    def __init__(self, fieldname: str, text: str, words: tuple[bytes, ...], of: MultiTerm):
        self.fieldname = fieldname
        self.text = text
        self.words = words
        self.boost = float(getattr(of, "boost", 1.0))
        self.constantscore = bool(getattr(of, "constantscore", False))

    def _btexts(self, ixreader: Any) -> Iterator[bytes]:
        return iter(self.words)

    def has_terms(self) -> bool:
        return True

    def terms(self, phrases: bool = False) -> Iterator[tuple[str, str]]:
        for word in self.words:
            yield self.fieldname, word.decode("utf-8", "replace")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expansion) and (
            self.fieldname,
            self.words,
            self.boost,
            self.constantscore,
        ) == (other.fieldname, other.words, other.boost, other.constantscore)

    def __hash__(self) -> int:
        return hash((self.fieldname, self.words, self.boost, self.constantscore))

    def __repr__(self) -> str:
        return f"Expansion({self.fieldname!r}, {self.text!r}, {len(self.words)} words)"
