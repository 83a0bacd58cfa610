"""What a build of the in-browser search index leaves for the next one (browser_index.py):
enough to update the files for a few new episodes without reading the others.

Kept in the cache, as one JSON file with a column per document: at 100,000 documents it
weighs a few megabytes and loads in a fraction of a second. Any value that does not look
right makes `IndexState.from_bytes` answer None, and the next build starts from scratch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class ShardInfo:
    size: int  # the bytes of its records: a group's size decides the layout
    last: int  # its highest document number: a removed document's shards are those above it
    own: bool  # it holds only the term equal to its prefix (the prefix's group was split)


@dataclass(frozen=True, slots=True)
class IndexState:
    settings: list[object]  # format and layout constants: any change means a full build
    podcasts: list[list[str]]  # [slug, title] as meta.json lists them
    topics: list[list[str]]
    ids: list[str]  # by document number
    prints: list[str]  # a digest of what each document's postings and row come from
    lengths: list[int]  # each document's field lengths in FIELDS order, one after another
    images: dict[str, str]  # episode id -> the cover its row shows (none: "")
    shards: dict[str, ShardInfo]  # prefix -> shard
    files: dict[str, str] = field(default_factory=dict)  # site path -> sha256 (hex)

    def to_bytes(self) -> bytes:
        data = {
            "version": STATE_VERSION,
            "settings": self.settings,
            "podcasts": self.podcasts,
            "topics": self.topics,
            "ids": self.ids,
            "prints": self.prints,
            "lengths": self.lengths,
            "images": self.images,
            "shards": {p: [s.size, s.last, int(s.own)] for p, s in self.shards.items()},
            "files": self.files,
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> IndexState | None:
        try:
            data = json.loads(raw)
            return cls._of(data) if data.get("version") == STATE_VERSION else None
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    @classmethod
    def _of(cls, data: dict[str, Any]) -> IndexState | None:
        """Checked for shape, not value by value: the file is the build's own, and loading
        it is on the path of every build."""
        ids, prints, lengths = data["ids"], data["prints"], data["lengths"]
        if not (len(ids) == len(prints) and len(lengths) % max(len(ids), 1) == 0):
            return None
        if ids and not (isinstance(ids[-1], str) and isinstance(prints[-1], str)):
            return None
        shards = {
            str(p): ShardInfo(int(s), int(n), bool(o)) for p, (s, n, o) in data["shards"].items()
        }
        return cls(
            settings=list(data["settings"]),
            podcasts=data["podcasts"],
            topics=data["topics"],
            ids=ids,
            prints=prints,
            lengths=lengths,
            images=dict(data["images"]),
            shards=shards,
            files=dict(data["files"]),
        )
