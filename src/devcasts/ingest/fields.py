"""Single episode fields made typed and safe: enclosures, people, transcripts, categories."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from devcasts.ingest.guests import guests_in_notes
from devcasts.ingest.language import normalize_language
from devcasts.ingest.limits import MAX_CATEGORIES, MAX_PEOPLE
from devcasts.ingest.people import author_names as people_author_names
from devcasts.ingest.people import person_key
from devcasts.ingest.sanitize import clean_text, clean_url
from devcasts.records import Enclosure, Person, RawEnclosure, RawPerson, RawTranscript, Transcript

NAME_LIMIT = 200
CATEGORY_LIMIT = 100
OCTET_STREAM = "application/octet-stream"

# A fixed table, not the mimetypes module: its answers depend on the machine's files.
_EXTENSION_TYPES = {
    "mp3": "audio/mpeg", "m4a": "audio/mp4", "aac": "audio/aac", "oga": "audio/ogg",
    "ogg": "audio/ogg", "opus": "audio/opus", "wav": "audio/wav", "flac": "audio/flac",
    "mp4": "video/mp4", "m4v": "video/x-m4v", "mov": "video/quicktime", "webm": "video/webm",
    "ogv": "video/ogg", "mkv": "video/x-matroska",
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "pdf": "application/pdf", "vtt": "text/vtt", "srt": "application/srt",
    "json": "application/json", "html": "text/html", "txt": "text/plain",
}  # fmt: skip
_TYPE_ALIASES = {
    "audio/mp3": "audio/mpeg", "audio/x-mp3": "audio/mpeg", "audio/mpeg3": "audio/mpeg",
    "audio/x-mpeg": "audio/mpeg", "audio/mpg": "audio/mpeg", "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4", "application/ogg": "audio/ogg",
    "application/x-subrip": "application/srt",
}  # fmt: skip
_MIME = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")
_MAX_LENGTH = 1 << 40  # a terabyte: larger "lengths" are garbage


def choose_enclosure(
    raws: Sequence[RawEnclosure], base: str | None
) -> tuple[Enclosure, str] | None:
    """The best playable enclosure (audio before video, then feed order) and its URL as written."""
    best: tuple[int, int, Enclosure, str] | None = None
    for index, raw in enumerate(raws):
        url = clean_url(raw.url, base)
        if url is None:
            continue
        mime = media_type(raw.type, url)
        rank = _media_rank(mime)
        if rank is not None and (best is None or (rank, index) < best[:2]):
            best = (rank, index, Enclosure(url, mime, parse_length(raw.length)), raw.url.strip())
    return None if best is None else (best[2], best[3])


def media_type(declared: str, url: str) -> str:
    """The declared MIME type, cleaned; guessed from the URL's extension when missing or vague."""
    mime = declared.split(";", 1)[0].strip().lower()
    mime = _TYPE_ALIASES.get(mime, mime)
    if _MIME.match(mime) and mime != OCTET_STREAM:
        return mime
    extension = urlsplit(url).path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    return _EXTENSION_TYPES.get(extension, OCTET_STREAM)


def _media_rank(mime: str) -> int | None:
    if mime.startswith("audio/"):
        return 0
    if mime.startswith("video/"):
        return 1
    return 2 if mime == OCTET_STREAM else None


def parse_length(raw: str) -> int | None:
    text = raw.strip()
    if not text.isdigit() or not text.isascii():
        return None
    length = int(text)
    return length if 0 < length < _MAX_LENGTH else None


def people(persons: Sequence[RawPerson], author: str, base: str | None) -> tuple[Person, ...]:
    """podcast:person entries, then the personal names in itunes:author; one per person."""
    return _people(tuple(persons), author, base)


def episode_people(
    persons: Sequence[RawPerson], author: str, base: str | None, notes_text: str
) -> tuple[Person, ...]:
    """The episode's credited people, then the guests its notes name (role "guest"), unless
    the feed credits its guests itself: its spelling wins over a typo in the notes."""
    credited = people(persons, author, base)
    if any(person.role == "guest" for person in credited):
        return credited
    named = guests_in_notes(notes_text)
    if not named:
        return credited
    found = {person.slug: person for person in credited}
    # "Wolfgang Andy" in notes credited to Wolfgang Gassler and Andy Grunwald: two hosts.
    first_names = {person.name.split()[0].casefold() for person in credited}
    for name in named:
        slug = person_key(name)
        if name.split()[-1].casefold() not in first_names:
            found.setdefault(slug, Person(name=name, slug=slug, role="guest"))
    return tuple(found.values())[:MAX_PEOPLE]


# A feed names the same hosts on every episode: their cleaned names and slugs are kept.
@functools.lru_cache(maxsize=1024)
def _people(persons: tuple[RawPerson, ...], author: str, base: str | None) -> tuple[Person, ...]:
    found: dict[str, Person] = {}
    for raw in persons:
        person = _person(raw, base)
        if person is not None:
            found.setdefault(person.slug, person)
    for name in author_names(author):
        slug = person_key(name)
        found.setdefault(slug, Person(name=name, slug=slug, role="author"))
    return tuple(found.values())[:MAX_PEOPLE]


def _person(raw: RawPerson, base: str | None) -> Person | None:
    name = clean_text(raw.name, NAME_LIMIT)
    if not name:
        return None
    role = clean_text(raw.role, 40).lower() or "host"
    group = clean_text(raw.group, 40).lower() or None
    return Person(
        name=name,
        slug=_declared_person_key(name),
        role=role,
        href=clean_url(raw.href, base) if raw.href else None,
        img=clean_url(raw.img, base) if raw.img else None,
        group=group,
    )


def _declared_person_key(name: str) -> str:
    """A podcast:person's key; "Ada Lovelace: Countess of Code" shares Ada Lovelace's page."""
    names = people_author_names(name)
    return person_key(names[0] if len(names) == 1 else name)


def author_names(author: str) -> tuple[str, ...]:
    """The personal names in an author field (see people.author_names), e-mails left out."""
    return people_author_names(clean_text(author, NAME_LIMIT * 2))


def transcripts(raws: Sequence[RawTranscript], base: str | None) -> tuple[Transcript, ...]:
    found: list[Transcript] = []
    for raw in raws:
        url = clean_url(raw.url, base)
        if url is None or any(existing.url == url for existing in found):
            continue
        language = normalize_language(raw.language) if raw.language else None
        rel = "captions" if raw.rel.strip().lower() == "captions" else None  # the only rel defined
        found.append(
            Transcript(url=url, type=media_type(raw.type, url), language=language, rel=rel)
        )
    return tuple(found)


def categories(raws: Sequence[str]) -> tuple[str, ...]:
    """Cleaned, de-duplicated without regard to case, in feed order."""
    found: dict[str, str] = {}
    for raw in raws:
        category = clean_text(raw, CATEGORY_LIMIT)
        if category:
            found.setdefault(category.casefold(), category)
    return tuple(found.values())[:MAX_CATEGORIES]
