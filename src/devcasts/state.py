"""What the previous build saw, and the fingerprints that tell whether anything changed since.

The state is kept in the cache (`build-state.json`): only ever an optimisation. A missing or
corrupt state file costs one full build, never a wrong one.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devcasts import __version__
from devcasts.health import published_health
from devcasts.model import Config, FeedHealth, FeedOutcome, FetchResult
from devcasts.util.cache import CacheFile, fingerprint

if TYPE_CHECKING:
    from devcasts.archive.state import ArchiveState

STATE_FILE = "build-state.json"
STATE_VERSION = 2  # 1: {"version": 1, ...} as plain JSON, without a util.cache header


@dataclass(slots=True)
class BuildState:
    """What a build saw: the next build compares its own fingerprints with these."""

    normalize: str = ""  # fingerprint of what normalize depends on besides the bytes
    inputs: str = ""  # fingerprint of feeds.yaml, templates and content pages
    health: str = ""  # fingerprint of the feeds' statuses (the health page shows them)
    episodes: int = 0
    episode_counts: dict[str, int] = field(default_factory=dict)
    parsed: dict[str, str] = field(default_factory=dict)  # podcast slug -> body hash
    titles: dict[str, str] = field(default_factory=dict)  # podcast slug -> title, for reports
    linked_due: str | None = None  # ISO time a linked chapters file is next due; None: none
    # The site's bytes by top-level folder after the last build that wrote it; {}: not known.
    site_folders: dict[str, int] = field(default_factory=dict)
    art_due: str | None = None  # ISO time a cover (site/artwork.py) is next due; None: none

    def successor(self, normalize: str, inputs: str) -> BuildState:
        """The state a new build starts from: what it still knows of this one. Bodies parsed
        under another normalize fingerprint count as not parsed."""
        return BuildState(
            normalize=normalize,
            inputs=inputs,
            parsed=dict(self.parsed) if self.normalize == normalize else {},
            episode_counts=dict(self.episode_counts),
            titles=dict(self.titles),
            linked_due=self.linked_due,
            site_folders=dict(self.site_folders),
            art_due=self.art_due,
        )

    def remember(self, archive: ArchiveState) -> None:
        """Keep what reports need from the archive, so a build with nothing new skips it."""
        # By feed key (FeedSource.slug, as archive.state.feed_key), as the reports look up.
        keys = [(r.podcast.feed_key or r.podcast.slug, r) for r in archive.podcasts]
        self.episode_counts = {key: len(r.episodes) for key, r in keys}
        self.titles = {key: r.podcast.title for key, r in keys}

    def has_read(self, fetched: FetchResult) -> bool:
        """A build read these very bytes of the feed, under the same normalize fingerprint."""
        return self.parsed.get(fetched.source.slug) == fetched.content_hash

    def remember_read(self, outcomes: Sequence[FeedOutcome]) -> None:
        """The bodies read without error need no reading again until they change."""
        for outcome in outcomes:
            if outcome.feed is not None and outcome.fetched.content_hash:
                self.parsed[outcome.source.slug] = outcome.fetched.content_hash

    def linked_files_due(self, now: datetime) -> bool:
        """A chapters file an episode links to is due for a request (fetch/sidecar.py)."""
        if self.linked_due is None:
            return False
        try:
            return datetime.fromisoformat(self.linked_due) <= now
        except (TypeError, ValueError):  # a damaged state: ask, the files' cache knows better
            return True

    def note_linked_due(self, moment: datetime | None) -> None:
        self.linked_due = None if moment is None else moment.isoformat()

    def art_files_due(self, now: datetime) -> bool:
        """A cover the site shows is due for a request: the sinks run, though nothing else
        changed, so that a changed cover reaches the pages."""
        if self.art_due is None:
            return False
        try:
            return datetime.fromisoformat(self.art_due) <= now
        except (TypeError, ValueError):
            return True

    def note_art_due(self, moment: datetime | None) -> None:
        self.art_due = None if moment is None else moment.isoformat()

    def same_output_as(self, other: BuildState) -> bool:
        return (self.inputs, self.health) == (other.inputs, other.health) and bool(self.inputs)


# --- the state file --------------------------------------------------------------------------


def read_state(path: Path) -> BuildState:
    """The state kept at `path`; an empty one if it is missing, damaged or of another version."""
    data = _state_file(path).load(dict)
    try:
        return BuildState() if data is None else state_from_json(data)
    except ValueError:
        return BuildState()


def write_state(path: Path, state: BuildState) -> None:
    """Keep `state` at `path`; a file that already holds it is left alone."""
    _state_file(path).save(state_to_json(state))


def _state_file(path: Path) -> CacheFile:
    return CacheFile(path, STATE_VERSION, fingerprint(code=(__name__,)))


def state_to_json(state: BuildState) -> dict[str, Any]:
    return {
        "normalize": state.normalize,
        "inputs": state.inputs,
        "health": state.health,
        "episodes": state.episodes,
        "episode_counts": dict(sorted(state.episode_counts.items())),
        "parsed": dict(sorted(state.parsed.items())),
        "titles": dict(sorted(state.titles.items())),
        "linked_due": state.linked_due,
        "site_folders": dict(sorted(state.site_folders.items())),
        "art_due": state.art_due,
    }


def state_from_json(data: dict[str, Any]) -> BuildState:
    """Raises ValueError on fields that are not a build state's."""
    try:
        return BuildState(**data)
    except TypeError as error:
        raise ValueError(str(error)) from None


# --- fingerprints ----------------------------------------------------------------------------


def normalize_fingerprint(config: Config) -> str:
    """Everything besides a feed's bytes that changes what normalize makes of it: the
    configuration and the code that reads feeds, so that after an upgrade every feed is read
    again once and the archive gets the new rules without waiting for the feeds to change."""
    topics = [(t.slug, t.name, t.patterns) for t in config.topics]
    sources = sorted((s.slug, s.url, s.include, s.title, s.weight) for s in config.feeds)
    configured = _hash_json({"version": __version__, "topics": topics, "sources": sources})
    return fingerprint(code=_reading_code(), configured=configured) or configured


@functools.cache
def _reading_code() -> tuple[str, ...]:
    """The modules whose code decides what a feed's bytes become: every module of ingest/ and
    what they use. Found by name, not imported (a build with nothing new stays light)."""
    spec = importlib.util.find_spec("devcasts.ingest")
    folders = spec.submodule_search_locations if spec is not None else None
    ingest = sorted(
        f"devcasts.ingest.{path.stem}"
        for folder in folders or ()
        for path in Path(folder).glob("*.py")
        if path.stem != "__init__"
    )
    return (*ingest, *_READING_SUPPORT)


_READING_SUPPORT = (
    "devcasts.records",
    "devcasts.model",
    "devcasts.util.text",
    "devcasts.util.episode_dates",
    "devcasts.util.timestamps",
)


def inputs_fingerprint(config: Config, out_dir: Path, browser_index: bool) -> str:
    """The hand-written inputs of the sinks: feeds.yaml, content pages, templates (the site's
    own and the packaged theme's), flags."""
    from devcasts.site.templates import search_path

    digest = hashlib.sha256()
    digest.update(f"{__version__}\n{browser_index}\n{out_dir}\n".encode())
    digest.update(config.path.read_bytes())
    for root in (*search_path(config.templates_dir), config.content_dir):
        for path in sorted(_hand_written_files(root)):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _hand_written_files(root: Path) -> Iterator[Path]:
    """The regular files under `root`, but not in its archive/ folder (the build's own output,
    which the walk does not even enter); symbolic links to folders are not followed."""
    for folder, subfolders, files in os.walk(root):
        if folder == str(root) and "archive" in subfolders:
            subfolders.remove("archive")
        yield from (path for name in files if (path := Path(folder, name)).is_file())


def health_fingerprint(health: Sequence[FeedHealth]) -> str:
    published = published_health(health)
    return _hash_json([(h.slug, h.status.value, h.reason, h.episodes) for h in published])


def _hash_json(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()
