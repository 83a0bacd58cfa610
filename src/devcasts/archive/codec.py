"""Archive files' bytes and back: sorted keys, one field per line, ISO 8601 UTC times.

A podcast's archive is a folder of files (format 2): `podcast.json`, its record, and one
`<year>.json` per calendar year (UTC) of its episodes' publication dates. Format 1, one
`<slug>.json` with both, is still read (files.py migrates it).

Decoding checks every value against the model's types and names what is wrong (the file, the
line for broken JSON, the path to the field), so that a hand edit gone wrong is easy to fix.
"""

from __future__ import annotations

import json
import re
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import MISSING, fields, is_dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from devcasts.archive.state import PodcastArchive, archive_order, utc
from devcasts.errors import DevcastsError
from devcasts.records import Episode, Podcast

__all__ = [
    "FORMAT_VERSION",
    "ArchiveError",
    "checked_slug",
    "decode_podcast_file",
    "decode_podcast_folder",
    "encode_podcast_files",
]

FORMAT_VERSION = 2
LEGACY_FORMAT = 1  # one file per podcast
PODCAST_FILE = "podcast.json"
_YEAR_FILE = re.compile(r"^[0-9]{4}\.json$")
_SLUG_SHAPE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EMPTY_VALUES: tuple[object, ...] = (None, "", (), False)
_UNICODE_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_ASCII_JSON = json.JSONEncoder(ensure_ascii=True, sort_keys=True)


class ArchiveError(DevcastsError):
    """An archive file is unreadable or malformed; str() reads `FILE[:LINE]: MESSAGE`."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message} (fix the file, or restore it from git)")


def encode_podcast_files(record: PodcastArchive) -> dict[str, bytes]:
    """The podcast's files by name: `podcast.json` and one `<year>.json` per year that has
    episodes, each with sorted keys, one field per line, UTF-8 and a trailing newline.

    Written by hand rather than with json.dumps(indent=...), which is many times slower;
    nested values (chapters, people, ...) stay on their field's line.
    """
    by_year: dict[int, list[Episode]] = {}
    for episode in sorted(record.episodes, key=archive_order):
        by_year.setdefault(archive_year(episode), []).append(episode)
    files = {
        f"{year:04d}.json": _encoded(_episodes_text, episodes) for year, episodes in by_year.items()
    }
    files[PODCAST_FILE] = _encoded(_podcast_text, record.podcast)
    return files


def year_file_name(name: str) -> bool:
    """Whether `name` is one of a podcast folder's year files (`2024.json`)."""
    return _YEAR_FILE.match(name) is not None


def archive_year(episode: Episode) -> int:
    return utc(episode.published).year


def _encoded(text: Callable[[Any, _Dump], str], value: Any) -> bytes:
    try:
        return text(value, _UNICODE_JSON.encode).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a broken feed: keep them, escaped
        return text(value, _ASCII_JSON.encode).encode("ascii")


_Dump = Callable[[object], str]


def _object_text(value: object, indent: str, dump: _Dump) -> str:
    pairs = sorted(_to_json_fields(value).items())
    body = ",\n".join(f"{indent}  {dump(key)}: {dump(item)}" for key, item in pairs)
    return f"{indent}{{\n{body}\n{indent}}}" if pairs else f"{indent}{{}}"


def _episodes_text(episodes: Sequence[Episode], dump: _Dump) -> str:
    listed = ",\n".join(_object_text(episode, "    ", dump) for episode in episodes)
    lines = ["{", f'  "episodes": [\n{listed}\n  ],', f'  "format": {FORMAT_VERSION}']
    return "\n".join(lines) + "\n}\n"


def _podcast_text(podcast: Podcast, dump: _Dump) -> str:
    podcast_text = _object_text(podcast, "  ", dump).lstrip()
    lines = ["{", f'  "format": {FORMAT_VERSION},', f'  "podcast": {podcast_text}']
    return "\n".join(lines) + "\n}\n"


def decode_podcast_file(path: Path, data: bytes) -> PodcastArchive:
    """A format 1 file, `<slug>.json`: the podcast and all its episodes."""
    document = _json_document(path, data, LEGACY_FORMAT)
    podcast = _podcast_named(path, path.stem, document)
    episodes = _episodes_of(path, podcast.slug, document)
    _check_episodes(path, podcast.slug, episodes)
    return PodcastArchive(podcast, tuple(sorted(episodes, key=archive_order)))


def decode_podcast_record(path: Path, data: bytes) -> Podcast:
    """A folder's `podcast.json`; the folder is named by the podcast's slug."""
    return _podcast_named(path, path.parent.name, _json_document(path, data, FORMAT_VERSION))


def decode_year_file(path: Path, data: bytes) -> tuple[Episode, ...]:
    """A folder's `<year>.json`, its episodes checked against the folder's podcast slug."""
    episodes = _episodes_of(path, path.parent.name, _json_document(path, data, FORMAT_VERSION))
    _check_episodes(path, path.parent.name, episodes)
    return tuple(episodes)


def decode_podcast_folder(
    folder: Path, podcast: Podcast, years: Sequence[tuple[Path, tuple[Episode, ...]]]
) -> PodcastArchive:
    """The podcast's record from its decoded files (`years` in file-name order).

    An episode in two year files is one whose date moved to another year in a save that was
    cut short: the copy in the later year's file is kept (the next save tidies the files).
    """
    by_id: dict[str, Episode] = {}
    for _, in_year in years:
        by_id.update((episode.id, episode) for episode in in_year)
    episodes = sorted(by_id.values(), key=archive_order)
    # Each file was checked when decoded; across files only a slug can clash.
    if len({episode.slug for episode in episodes}) != len(episodes):
        _check_episodes(folder, podcast.slug, episodes)
    return PodcastArchive(podcast, tuple(episodes))


def _json_document(path: Path, data: bytes, newest: int) -> dict[str, Any]:
    try:
        document = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise ArchiveError(path, f"not UTF-8 text (byte {error.start})") from error
    except json.JSONDecodeError as error:
        raise ArchiveError(path, f"not valid JSON: {error.msg}", error.lineno) from error
    if not isinstance(document, dict):
        raise ArchiveError(path, "expected a JSON object")
    version = document.get("format")
    if not isinstance(version, int) or version != newest:
        raise ArchiveError(path, f"unsupported archive format {version!r} (expected {newest})")
    return document


def _podcast_named(path: Path, slug: str, document: dict[str, Any]) -> Podcast:
    podcast: Podcast = _decode(path, "podcast", Podcast, document.get("podcast"))
    if slug != podcast.slug:
        raise ArchiveError(path, f"podcast slug {podcast.slug!r} does not match the file name")
    return podcast


def _episodes_of(path: Path, slug: str, document: dict[str, Any]) -> list[Episode]:
    raw_episodes = document.get("episodes")
    if not isinstance(raw_episodes, list):
        raise ArchiveError(path, "'episodes' must be a list")
    return [_decode(path, f"episodes[{i}]", Episode, raw) for i, raw in enumerate(raw_episodes)]


def _check_episodes(path: Path, slug: str, episodes: Sequence[Episode]) -> None:
    ids: set[str] = set()
    slugs: set[str] = set()
    for episode in episodes:
        name = f"episode {episode.id!r}"
        if episode.podcast != slug:
            raise ArchiveError(path, f"{name} belongs to podcast {episode.podcast!r}")
        if not _SLUG_SHAPE.match(episode.slug):
            raise ArchiveError(path, f"{name} has an unusable slug {episode.slug!r}")
        if episode.id in ids:
            raise ArchiveError(path, f"{name} appears twice")
        if episode.slug in slugs:
            raise ArchiveError(path, f"{name}: slug {episode.slug!r} is used twice")
        ids.add(episode.id)
        slugs.add(episode.slug)


def checked_slug(slug: str) -> str:
    if not _SLUG_SHAPE.match(slug):
        raise ValueError(f"podcast slug {slug!r} cannot name an archive file")
    return slug


# --- JSON codec for the model's dataclasses -------------------------------------------------


def _to_json(value: object) -> object:
    if isinstance(value, datetime):
        return _format_time(value)
    if is_dataclass(value) and not isinstance(value, type):
        return _to_json_fields(value)
    if isinstance(value, tuple):
        return [_to_json(item) for item in value]
    return value


def _format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z: "2024-05-01T12:00:00Z" (four-digit years, even year 99)."""
    return utc(moment).replace(tzinfo=None).isoformat() + "Z"


def _to_json_fields(value: Any) -> dict[str, object]:
    encoded: dict[str, object] = {}
    for name, default in _field_defaults(value.__class__):
        item = getattr(value, name)
        # Empty defaults are left out: smaller files, and new model fields change no file.
        if item is default or (item == default and item in _EMPTY_VALUES):
            continue
        encoded[name] = _to_json(item)
    return encoded


@cache
def _field_defaults(cls: Any) -> tuple[tuple[str, object], ...]:
    """(name, default) per field; fields without a plain default get a sentinel. A field
    not given to the class (a memo, as Episode's fingerprint) is not part of the record."""
    return tuple(
        (spec.name, spec.default if spec.default in _EMPTY_VALUES else MISSING)
        for spec in fields(cls)
        if spec.init
    )


class _Invalid(Exception):
    """A value that does not fit its field; `where` is filled in on the way out."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.where: list[str] = []


_Decoder = Callable[[object], Any]


def _decode(path: Path, context: str, cls: type, raw: object) -> Any:
    try:
        return _decoder(cls)(raw)
    except _Invalid as error:
        where = "".join(part if part.startswith("[") else f".{part}" for part in error.where)
        raise ArchiveError(path, f"{context}{where}: {error.message}") from None


@cache
def _decoder(expected: Any) -> _Decoder:
    """A function turning JSON data into `expected`, built once per type from the model."""
    origin = typing.get_origin(expected)
    if origin in (typing.Union, types.UnionType):
        return _optional_decoder(expected)
    if origin is typing.Literal:
        return _literal_decoder(typing.get_args(expected))
    if origin is tuple:
        return _tuple_decoder(_decoder(typing.get_args(expected)[0]))
    if isinstance(expected, type) and is_dataclass(expected):
        return _dataclass_decoder(expected)
    if expected is datetime:
        return _parse_time
    return _scalar_decoder(expected)


def _optional_decoder(expected: Any) -> _Decoder:
    options = typing.get_args(expected)
    (inner_type,) = [t for t in options if t is not type(None)]
    inner = _decoder(inner_type)
    nullable = type(None) in options

    def decode(raw: object) -> Any:
        return None if raw is None and nullable else inner(raw)

    return decode


def _literal_decoder(allowed: tuple[object, ...]) -> _Decoder:
    def decode(raw: object) -> Any:
        if raw not in allowed:
            raise _Invalid(f"expected one of {allowed}, got {raw!r}")
        return raw

    return decode


def _tuple_decoder(item: _Decoder) -> _Decoder:
    def decode(raw: object) -> Any:
        if not isinstance(raw, list):
            raise _Invalid(f"expected a list, got {type(raw).__name__}")
        decoded = []
        for index, value in enumerate(raw):
            try:
                decoded.append(item(value))
            except _Invalid as error:
                error.where.insert(0, f"[{index}]")
                raise
        return tuple(decoded)

    return decode


def _dataclass_decoder(cls: type) -> _Decoder:
    hints = typing.get_type_hints(cls)
    specs = [
        (spec.name, _decoder(hints[spec.name]), spec.default is MISSING is spec.default_factory)
        for spec in fields(cls)
        if spec.init
    ]

    def decode(raw: object) -> Any:
        if not isinstance(raw, dict):
            raise _Invalid(f"expected an object, got {type(raw).__name__}")
        values: dict[str, Any] = {}
        for name, decode_field, required in specs:
            if name in raw:  # unknown keys are ignored: files of newer or older models load
                try:
                    values[name] = decode_field(raw[name])
                except _Invalid as error:
                    error.where.insert(0, name)
                    raise
            elif required:
                raise _Invalid(f"missing {name!r}")
        return cls(**values)

    return decode


def _scalar_decoder(expected: type) -> _Decoder:
    def decode(raw: object) -> Any:
        if type(raw) is expected:
            return raw
        if expected is float and type(raw) is int:
            return float(raw)
        raise _Invalid(f"expected {expected.__name__}, got {raw!r}")

    return decode


def _parse_time(raw: object) -> datetime:
    if isinstance(raw, str):
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
    raise _Invalid(f"expected a UTC time like '2024-05-01T12:00:00Z', got {raw!r}")
