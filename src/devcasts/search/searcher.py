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
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

from whoosh import fields, highlight, index, sorting
from whoosh.analysis.analyzers import Analyzer, StemmingAnalyzer
from whoosh.qparser.default import MultifieldParser, QueryParser
from whoosh.qparser.plugins import FieldAliasPlugin, FuzzyTermPlugin
from whoosh.query.compound import And
from whoosh.query.qcore import Every, Query
from whoosh.query.ranges import NumericRange
from whoosh.query.terms import FuzzyTerm, Term
from whoosh.query.wrappers import Not

from devcasts.errors import DevcastsError
from devcasts.search.marker import INDEX_NAME, SCHEMA_VERSION, has_toc, read_marker
from devcasts.search.schema import FIELD_BOOSTS, build_schema, damage_tolerated, primary_language
from devcasts.util.text import slugify

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


# --- searching ------------------------------------------------------------------------------


def search(index_dir: Path, request: SearchRequest) -> SearchResponse:
    """Run one search; raises QuerySyntaxError or IndexMissingError with a clear message."""
    schema = build_schema()
    parser = make_parser(schema)
    parsed = parse_query(parser, request.query)
    ix = _open_for_search(index_dir, schema)
    with damage_tolerated():
        try:
            with ix.searcher() as searcher:  # BM25F, whoosh's default
                hits, total, exact = _run(searcher, parsed, request)
                if total or not request.query.strip():
                    return SearchResponse(hits, total, total_exact=exact)
                return _retry(searcher, parser, parsed, request)
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


def _filters(request: SearchRequest) -> Query | None:
    clauses: list[Query] = []
    if request.podcast:
        clauses.append(Term("podcast_slug", slugify(request.podcast)))
    if request.topic:
        clauses.append(Term("topics", request.topic.strip().lower()))
    if request.person:
        clauses.append(Term("person_slugs", slugify(request.person)))
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


def _run(searcher: Any, parsed: Query, request: SearchRequest) -> tuple[list[Hit], int, bool]:
    """The page of hits, the total and whether it is exact; the same order on every run."""
    limit = max(1, min(request.limit, 1000))
    only = _filters(request)
    if request.sort == "newest" or isinstance(parsed, Every):
        ranked = searcher.search(parsed, limit=limit, filter=only, sortedby=_newest_first())
        docnums = [result.docnum for result in ranked]
        scores = _scores_of(searcher, parsed, docnums)
        picked = [(result, scores.get(result.docnum, 0.0)) for result in ranked]
    else:
        # A plain top-N search lets whoosh skip blocks that cannot make the cut.
        ranked = searcher.search(parsed, limit=limit + TIE_WINDOW, filter=only)
        picked = _break_ties(searcher, ranked)[:limit]
    notes_terms = _field_terms(parsed, "notes")
    summary_terms = notes_terms | _field_terms(parsed, "title")
    hits = [_hit(result, score, notes_terms, summary_terms) for result, score in picked]
    # Counting every match of a broad query in a big index costs a third of its time:
    # estimate instead.
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


def _scores_of(searcher: Any, parsed: Query, docnums: list[int]) -> dict[int, float]:
    """BM25F scores of a few documents, for hits ordered by date."""
    if not docnums or isinstance(parsed, Every):
        return {}
    scored = searcher.search(parsed, limit=len(docnums), filter=set(docnums))
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
    searcher: Any, parser: QueryParser, parsed: Query, request: SearchRequest
) -> SearchResponse:
    """Nothing matched: try the spelling the index suggests, then a fuzzy match."""
    suggestion = suggest_query(searcher.reader(), request.query)
    if suggestion:
        try:
            hits, total, exact = _run(searcher, parse_query(parser, suggestion), request)
        except QuerySyntaxError:
            hits, total, exact, suggestion = [], 0, True, None
        if total:
            return SearchResponse(hits, total, suggestion, corrected=True, total_exact=exact)
    fuzzy = _fuzzy(searcher.reader(), parsed)
    if fuzzy is not None:
        hits, total, exact = _run(searcher, fuzzy, request)
        if total:
            return SearchResponse(hits, total, suggestion, corrected=True, total_exact=exact)
    return SearchResponse([], 0, suggestion)


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
