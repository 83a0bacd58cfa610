"""The in-browser search index: the search index's own terms, in small files the browser
fetches only as a query needs them.

`static/search.js` ranks with the formula the terminal's whoosh search uses (BM25F over the
same fields, weights, analyzers and statistics), so both give the same answers; the files
here hold what that needs and nothing more. A query fetches `meta.json`, one or two term
shards per word and the documents of the results it shows: a few dozen kilobytes, whatever
the size of the archive.

Files, under `site/search-index/`:

- `meta.json`: the format, the documents' count, the fields (weight, stemmed, stop words),
  BM25's constants and average field lengths, whoosh's table of field lengths, the shards'
  and vocabulary's file names, the podcasts and topics, and `token` (a digest of every
  other file, added to their URLs so a browser never mixes two builds).
- `t/<prefix>.bin`: the postings of every (field, term) whose term starts with the prefix.
  Prefixes start at one character and grow (up to MAX_PREFIX) while a shard is over
  SHARD_BYTES. Each record: term (UTF-8, length first), field number, document frequency,
  then per document: the gap from the previous document number, the term's frequency and
  whoosh's one-byte code of the field's length (all numbers LEB128 varints).
- `v/<first character>.json`: the title and notes terms with their document frequency (and
  the word most often written for a stem): the vocabulary typo corrections come from,
  fetched only when a word is unknown.
- `d/<n>.json`: documents n*CHUNK_DOCS onwards, as the results list shows them.
- `facets.bin`: each document's podcast (uint16, little endian), then a bitset per topic:
  the filters' counts for any query.
- `entities.json`: the shows, people and topics, found by name above the episodes.

Documents are numbered oldest first (undated first), so "newest first" is the reverse of
the document numbers, and a new episode usually takes the next number: the files of the
older ones do not change.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from whoosh.analysis.filters import STOP_WORDS
from whoosh.util.numeric import byte_to_length, length_to_byte

from devcasts.records import Catalog, Episode
from devcasts.search.schema import (
    BM25_B,
    BM25_K1,
    FIELD_BOOSTS,
    FastText,
    build_schema,
    field_terms,
    field_words,
)
from devcasts.search.writer import DocumentNames, episode_document
from devcasts.site import filters, pages, urls
from devcasts.util.links import public_url

FORMAT_VERSION = 1
CHUNK_DOCS = 16  # documents per file: the first ten results need at most ten small files
SHARD_BYTES = 24_000  # a shard over this is split by one more character of its prefix
MAX_PREFIX = 4  # characters; past it a shard holds what it holds
SUMMARY_CHARS = 200
VOCABULARY_FIELDS = ("title", "notes")  # as the terminal's suggestions (searcher.py)
FIELDS = tuple(FIELD_BOOSTS)
END_OF_TERM = 0xFF  # after a term's last field


@dataclass(frozen=True, slots=True)
class BrowserIndex:
    files: dict[str, bytes]  # site-relative path -> content
    documents: int
    postings: int
    seconds: float

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())


def build_browser_index(catalog: Catalog, images: Mapping[str, str] | None = None) -> BrowserIndex:
    """The index's files; `images`: episode id -> the site path of its cover's small copy
    (site/artwork.py), shown beside each result."""
    started = time.perf_counter()
    episodes = documents_in_order(catalog.episodes)
    postings, totals, surface = _postings(catalog, episodes)
    shards = _shards(_records(postings))
    files: dict[str, bytes] = {}
    for prefix, data in shards.items():
        files[_shard_path(prefix)] = data
    vocabulary = _vocabulary(postings, surface)
    for key, entries in vocabulary.items():
        files[_vocabulary_path(key)] = _json(entries)
    podcasts = [p.slug for p in catalog.podcasts]
    topics = [t.slug for t in catalog.topics]
    for number, chunk in enumerate(_chunks(episodes, podcasts, topics, images or {})):
        files[_path(f"d/{number}.json")] = _json(chunk)
    files[_path("facets.bin")] = _facets(episodes, podcasts, topics)
    files[_path("entities.json")] = _json(_entities(catalog))
    meta = _meta(catalog, len(episodes), totals, shards, vocabulary, files)
    files[_path("meta.json")] = _json(meta)
    return BrowserIndex(
        files=files,
        documents=len(episodes),
        postings=sum(len(docs) for docs in postings.values()),
        seconds=round(time.perf_counter() - started, 3),
    )


def documents_in_order(episodes: Sequence[Episode]) -> list[Episode]:
    """Oldest first, undated before the oldest: the catalog's order (newest first, undated
    last) reversed, so a document's number orders it by date."""
    return list(reversed(episodes))


def _path(name: str) -> str:
    return urls.search_index(name)


# --- postings ---------------------------------------------------------------------------------

# (term, field number) -> [(document, frequency, length code), ...] by document
Postings = dict[tuple[str, int], list[tuple[int, int, int]]]


def _postings(
    catalog: Catalog, episodes: Sequence[Episode]
) -> tuple[Postings, list[int], dict[str, str]]:
    """Every field's terms of every document, as the search index holds them; each field's
    total length (whoosh's average field length is that over the document count); and the
    vocabulary's terms as readers write them ("kubernet" -> "kubernetes")."""
    schema = build_schema()
    names = DocumentNames.of(catalog)
    postings: Postings = defaultdict(list)
    totals = [0] * len(FIELDS)
    written: Counter[tuple[str, str]] = Counter()
    for number, episode in enumerate(episodes):
        document = episode_document(names, episode)
        for field_number, name in enumerate(FIELDS):
            text = document.get(name) or ""
            field = schema[name]
            if name in VOCABULARY_FIELDS and isinstance(field, FastText):
                words = field_words(field, text)
                written.update(words)
                counts: Counter[str] = Counter()
                for (_word, term), count in words.items():
                    counts[term] += count
            else:
                counts = field_terms(field, text)
            length = sum(counts.values())
            totals[field_number] += length
            code = length_to_byte(length)
            for term, count in counts.items():
                postings[(term, field_number)].append((number, count, code))
    return postings, totals, _surface_forms(written)


def _surface_forms(written: Counter[tuple[str, str]]) -> dict[str, str]:
    """term -> the word written most often for it (ties: the first alphabetically)."""
    best: dict[str, tuple[int, str]] = {}
    for (word, term), count in written.items():
        known = best.get(term)
        if known is None or (-count, word) < (-known[0], known[1]):
            best[term] = (count, word)
    return {term: word for term, (_count, word) in best.items()}


def _records(postings: Postings) -> dict[str, bytes]:
    """term -> its record: the term, then each field's postings, in field order."""
    fields_of: dict[str, list[int]] = defaultdict(list)
    for term, field_number in sorted(postings):
        fields_of[term].append(field_number)
    records: dict[str, bytes] = {}
    for term, field_numbers in fields_of.items():
        encoded = term.encode("utf-8")
        out = bytearray(_varint(len(encoded)) + encoded)
        for field_number in field_numbers:
            docs = postings[(term, field_number)]
            out.append(field_number)
            out += _varint(len(docs))
            previous = 0
            for doc, count, code in docs:
                out += _varint(doc - previous)
                out += _varint(count)
                out.append(code)
                previous = doc
        out.append(END_OF_TERM)
        records[term] = bytes(out)
    return records


def _varint(number: int) -> bytes:
    if number < 0x80:
        return _SMALL[number]
    out = bytearray()
    while True:
        low = number & 0x7F
        number >>= 7
        if number:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


_SMALL = [bytes([n]) for n in range(0x80)]


def _shards(records: dict[str, bytes]) -> dict[str, bytes]:
    """prefix -> shard: the records of the terms that start with it (and not with a longer
    prefix that has its own shard)."""
    shards: dict[str, bytes] = {}

    def place(prefix: str, terms: list[str]) -> None:
        size = sum(len(records[t]) for t in terms)
        if size <= SHARD_BYTES or len(prefix) >= MAX_PREFIX:
            shards[prefix] = _shard(records, terms)
            return
        by_next: dict[str, list[str]] = defaultdict(list)
        own = []
        for term in terms:
            if len(term) == len(prefix):
                own.append(term)
            else:
                by_next[term[: len(prefix) + 1]].append(term)
        if own:
            shards[prefix] = _shard(records, own)
        for longer, group in sorted(by_next.items()):
            place(longer, group)

    by_first: dict[str, list[str]] = defaultdict(list)
    for term in sorted(records):
        by_first[term[:1]].append(term)
    for first, terms in sorted(by_first.items()):
        place(first, terms)
    return shards


def _shard(records: dict[str, bytes], terms: Iterable[str]) -> bytes:
    ordered = sorted(terms)
    return b"DCT1" + _varint(len(ordered)) + b"".join(records[t] for t in ordered)


def _file_key(prefix: str) -> str:
    """A file name for a prefix: letters and digits as they are, anything else as _hex."""
    return "".join(
        char if char.isascii() and char.isalnum() else f"_{ord(char):x}" for char in prefix
    )


def _shard_path(prefix: str) -> str:
    return _path(f"t/{_file_key(prefix)}.bin")


# --- vocabulary -------------------------------------------------------------------------------


def _vocabulary(postings: Postings, surface: dict[str, str]) -> dict[str, list[list[object]]]:
    """first character -> [[term, documents], ...], with the word as written third when it is
    not the term: the title and notes terms, counted as the terminal ranks its suggestions."""
    wanted = {FIELDS.index(name) for name in VOCABULARY_FIELDS}
    frequency: Counter[str] = Counter()
    for (term, field_number), docs in postings.items():
        if field_number in wanted:
            frequency[term] += len(docs)
    grouped: dict[str, list[list[object]]] = defaultdict(list)
    for term in sorted(frequency):
        entry: list[object] = [term, frequency[term]]
        if surface.get(term, term) != term:
            entry.append(surface[term])
        grouped[term[:1]].append(entry)
    return dict(grouped)


def _vocabulary_path(first: str) -> str:
    return _path(f"v/{_file_key(first)}.json")


# --- documents, facets, entities --------------------------------------------------------------


def _chunks(
    episodes: Sequence[Episode],
    podcasts: list[str],
    topics: list[str],
    images: Mapping[str, str],
) -> Iterable[list[list[object]]]:
    podcast_number = {slug: n for n, slug in enumerate(podcasts)}
    topic_number = {slug: n for n, slug in enumerate(topics)}
    for first in range(0, len(episodes), CHUNK_DOCS):
        yield [
            _document(episode, podcast_number, topic_number, images)
            for episode in episodes[first : first + CHUNK_DOCS]
        ]


def _document(
    episode: Episode,
    podcast_number: dict[str, int],
    topic_number: dict[str, int],
    images: Mapping[str, str],
) -> list[object]:
    """[path, title, podcast, date, duration, summary, topics, image], as the results list
    shows (image: "" when the site has no cover for it), and the audio's URL when it is one
    the pages may link to (a result's play button)."""
    published = filters.published_on(episode)
    document: list[object] = [
        urls.episode(episode),
        episode.title,
        podcast_number.get(episode.podcast, -1),
        filters.human_date(published) if published else "date unknown",
        filters.human_duration(episode.duration),
        _shorten(episode.summary),
        [topic_number[t] for t in dict.fromkeys(episode.topics) if t in topic_number],
        images.get(episode.id, ""),
    ]
    audio = public_url(episode.enclosure.url) if episode.enclosure else None
    if audio:
        document.append(audio)
    return document


def _shorten(text: str) -> str:
    if len(text) <= SUMMARY_CHARS:
        return text
    cut = text[:SUMMARY_CHARS].rsplit(" ", 1)[0].rstrip(" ,.;:")
    return cut + "\u2026"


def _facets(episodes: Sequence[Episode], podcasts: list[str], topics: list[str]) -> bytes:
    podcast_number = {slug: n for n, slug in enumerate(podcasts)}
    out = bytearray()
    for episode in episodes:
        out += podcast_number.get(episode.podcast, 0xFFFF).to_bytes(2, "little")
    for topic in topics:
        bits = bytearray((len(episodes) + 7) // 8)
        for number, episode in enumerate(episodes):
            if topic in episode.topics:
                bits[number >> 3] |= 1 << (number & 7)
        out += bits
    return bytes(out)


def _entities(catalog: Catalog) -> list[list[object]]:
    """[kind, name, path, episodes] of every show, person and topic, each kind by name."""
    shows = pages.episodes_published_by_podcast(catalog.episodes)
    by_topic = pages.episodes_by_topic(catalog.topics, catalog.episodes)
    found: list[list[object]] = [
        ["show", p.title, urls.podcast(p.slug), len(shows.get(p.slug, ()))]
        for p in catalog.podcasts
    ]
    found += [
        ["person", person.name, urls.person(person.slug), len(person.episodes)]
        for person in pages.people_index(catalog.episodes)
    ]
    found += [
        ["topic", t.name, urls.topic(t.slug), len(by_topic.get(t.slug, ()))] for t in catalog.topics
    ]
    return found


# --- meta -------------------------------------------------------------------------------------


def _meta(
    catalog: Catalog,
    documents: int,
    totals: list[int],
    shards: dict[str, bytes],
    vocabulary: dict[str, list[list[object]]],
    files: dict[str, bytes],
) -> dict[str, object]:
    schema = build_schema()
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{path}\0".encode() + hashlib.sha256(files[path]).digest())
    return {
        "version": FORMAT_VERSION,
        "token": digest.hexdigest()[:16],
        "documents": documents,
        "chunk": CHUNK_DOCS,
        "fields": [
            {
                "name": name,
                "boost": FIELD_BOOSTS[name],
                "stemmed": bool(getattr(schema[name], "stem_terms", False)),
                "stopped": getattr(schema[name], "stoplist", None) is not None,
                "average": (totals[n] / documents) if documents else 0,
            }
            for n, name in enumerate(FIELDS)
        ],
        "k1": BM25_K1,
        "b": BM25_B,
        "stop": sorted(STOP_WORDS),
        "lengths": [byte_to_length(code) for code in range(256)],
        "shards": {prefix: _file_key(prefix) for prefix in sorted(shards)},
        "vocabulary": {first: _file_key(first) for first in sorted(vocabulary)},
        "podcasts": [[p.slug, p.title] for p in catalog.podcasts],
        "topics": [[t.slug, t.name] for t in catalog.topics],
    }


def _json(value: object) -> bytes:
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
