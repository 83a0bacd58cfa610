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
    prints: list[str]  # writer.episode_fingerprint of each document
    lengths: list[list[int]]  # each document's field lengths, in FIELDS order
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
            "lengths": [n for row in self.lengths for n in row],
            "width": len(self.lengths[0]) if self.lengths else 0,
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
        ids, prints, flat, width = data["ids"], data["prints"], data["lengths"], data["width"]
        if len(ids) != len(prints) or len(flat) != width * len(ids):
            return None
        shards = {
            str(p): ShardInfo(int(s), int(n), bool(o)) for p, (s, n, o) in data["shards"].items()
        }
        return cls(
            settings=list(data["settings"]),
            podcasts=data["podcasts"],
            topics=data["topics"],
            ids=[str(i) for i in ids],
            prints=[str(p) for p in prints],
            lengths=[flat[at : at + width] for at in range(0, len(flat), width)],
            images={str(k): str(v) for k, v in data["images"].items()},
            shards=shards,
            files={str(k): str(v) for k, v in data["files"].items()},
        )
