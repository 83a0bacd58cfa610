"""Curation from content/overrides.yaml: hide, feature, retitle or retopic single episodes.

Overrides are applied when the catalog is built, never written into the archive, so they
survive every refresh. Every mistake is a ConfigError naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from devcasts.errors import ConfigError
from devcasts.records import Episode

__all__ = [
    "OVERRIDES_FILE",
    "EpisodeOverride",
    "Overrides",
    "apply_override",
    "load_overrides",
    "resolve_overrides",
]

OVERRIDES_FILE = "overrides.yaml"
SELECTOR_KEYS = ("episode", "id", "guid")
ACTION_KEYS = ("hide", "feature", "title", "add_topics", "remove_topics")
KNOWN_KEYS = (*SELECTOR_KEYS, "podcast", *ACTION_KEYS)
MAX_TITLE_LENGTH = 300
_WHITESPACE = re.compile(r"\s+")
_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_Pair = tuple[str, yaml.Node, yaml.Node]  # key, key node (for its line), value node


@dataclass(frozen=True, slots=True)
class EpisodeOverride:
    """One entry of `episodes:`: a selector (episode, id, or guid) and the actions to apply."""

    line: int
    episode: str | None = None  # "<podcast-slug>/<episode-slug>", as in the page's URL
    id: str | None = None
    guid: str | None = None
    podcast: str | None = None  # narrows a guid to one podcast
    hide: bool | None = None
    feature: bool | None = None
    title: str | None = None
    add_topics: tuple[str, ...] = ()
    remove_topics: tuple[str, ...] = ()
    key_lines: Mapping[str, int] = field(default_factory=dict)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    @property
    def selector(self) -> str:
        return self.episode or (f"id {self.id}" if self.id else f"guid {self.guid}")


@dataclass(frozen=True, slots=True)
class Overrides:
    path: Path = Path("content") / OVERRIDES_FILE
    episodes: tuple[EpisodeOverride, ...] = ()


# --- loading --------------------------------------------------------------------------------


def load_overrides(content_dir: Path) -> Overrides:
    """Read content/overrides.yaml; a missing or empty file means no overrides."""
    path = content_dir / OVERRIDES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Overrides(path)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(path, f"cannot read: {error}") from error
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(path, error) from error
    except yaml.YAMLError as error:
        raise ConfigError(path, f"not valid YAML: {error}") from error
    if root is None:
        return Overrides(path)
    return Overrides(path, _parse_root(path, root))


def _yaml_error(path: Path, error: yaml.MarkedYAMLError) -> ConfigError:
    line = error.problem_mark.line + 1 if error.problem_mark else None
    message = f"not valid YAML: {error.problem}"
    if error.context and error.context_mark and error.context_mark.line + 1 != line:
        message += f" ({error.context} at line {error.context_mark.line + 1})"
    return ConfigError(path, message, line)


def _parse_root(path: Path, root: yaml.Node) -> tuple[EpisodeOverride, ...]:
    pairs = _mapping_pairs(path, root, "the file")
    entries: tuple[EpisodeOverride, ...] = ()
    for key, key_node, value in pairs:
        if key != "episodes":
            raise ConfigError(path, "unknown key (expected: episodes)", _line(key_node), key)
        if _is_null(value):
            continue
        if not isinstance(value, yaml.SequenceNode):
            raise ConfigError(path, "expected a list of overrides", _line(value), key)
        entries = tuple(_parse_entry(path, item) for item in value.value)
    return entries


def _parse_entry(path: Path, node: yaml.Node) -> EpisodeOverride:
    values: dict[str, object] = {}
    lines: dict[str, int] = {}
    for key, key_node, value in _mapping_pairs(path, node, "an override"):
        if key not in KNOWN_KEYS:
            expected = ", ".join(KNOWN_KEYS)
            raise ConfigError(path, f"unknown key (expected: {expected})", _line(key_node), key)
        values[key] = _parse_value(path, key, value)
        lines[key] = _line(key_node)
    override = EpisodeOverride(line=_line(node), key_lines=lines, **values)  # type: ignore[arg-type]
    _check_entry(path, override)
    return override


def _parse_value(path: Path, key: str, node: yaml.Node) -> object:
    if key in ("hide", "feature"):
        if not (isinstance(node, yaml.ScalarNode) and node.tag == _BOOL_TAG):
            raise ConfigError(path, "expected true or false", _line(node), key)
        return node.value.lower() in ("true", "yes", "on")
    if key in ("add_topics", "remove_topics"):
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        return tuple(_text(path, key, item) for item in items)
    text = _text(path, key, node)
    if key == "title":
        text = _WHITESPACE.sub(" ", text).strip()
        if len(text) > MAX_TITLE_LENGTH:
            raise ConfigError(path, f"longer than {MAX_TITLE_LENGTH} characters", _line(node), key)
    if key == "episode":
        text = _episode_path(path, text, node)
    return text


def _text(path: Path, key: str, node: yaml.Node) -> str:
    """A non-empty scalar; numbers are read as written (an id may look like one)."""
    if not isinstance(node, yaml.ScalarNode) or node.tag not in (
        _STR_TAG,
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:float",
    ):
        raise ConfigError(path, "expected text", _line(node), key)
    text = str(node.value).strip()
    if not text:
        raise ConfigError(path, "must not be empty", _line(node), key)
    return text


def _episode_path(path: Path, text: str, node: yaml.Node) -> str:
    """Accept "show/episode", "podcasts/show/episode/" or "/podcasts/show/episode/"."""
    parts = [part for part in text.split("/") if part]
    if len(parts) == 3 and parts[0] == "podcasts":
        parts = parts[1:]
    if len(parts) != 2:
        message = "expected <podcast-slug>/<episode-slug>, as in the episode page's URL"
        raise ConfigError(path, message, _line(node), "episode")
    return "/".join(parts)


def _check_entry(path: Path, override: EpisodeOverride) -> None:
    selectors = [key for key in SELECTOR_KEYS if key in override.key_lines]
    if len(selectors) != 1:
        message = "give exactly one of episode, id, guid to say which episode"
        raise ConfigError(path, message, override.line)
    if override.podcast and override.episode:
        message = "not needed with episode: (write episode: <podcast>/<episode>)"
        raise ConfigError(path, message, override.line_of("podcast"), "podcast")
    if not any(key in override.key_lines for key in ACTION_KEYS):
        expected = ", ".join(ACTION_KEYS)
        raise ConfigError(path, f"nothing to do: add one of {expected}", override.line)
    if override.hide and override.feature:
        raise ConfigError(path, "hide and feature together", override.line_of("feature"))
    both = sorted(set(override.add_topics) & set(override.remove_topics))
    if both:
        message = f"{', '.join(both)} both added and removed"
        raise ConfigError(path, message, override.line_of("remove_topics"), "remove_topics")


def _mapping_pairs(path: Path, node: yaml.Node, what: str) -> list[_Pair]:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(path, f"expected a mapping for {what}", _line(node))
    pairs: list[_Pair] = []
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG):
            raise ConfigError(path, "keys must be plain words", _line(key_node))
        key = str(key_node.value)
        if key in seen:
            message = f"given twice (first at line {seen[key]})"
            raise ConfigError(path, message, _line(key_node), key)
        seen[key] = _line(key_node)
        pairs.append((key, key_node, value_node))
    return pairs


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


# --- applying -------------------------------------------------------------------------------


def resolve_overrides(
    overrides: Overrides, episodes: Iterable[Episode], topic_rank: Mapping[str, int]
) -> dict[str, EpisodeOverride]:
    """Map each override to the archived episode it names (by episode id).

    Raises ConfigError for an episode not in the archive, an ambiguous guid, a second
    override of the same episode, or a topic that feeds.yaml does not define.
    """
    if not overrides.episodes:
        return {}
    by_path: dict[str, str] = {}
    by_id: dict[str, Episode] = {}
    by_guid: dict[str, list[Episode]] = {}
    for episode in episodes:
        by_path[f"{episode.podcast}/{episode.slug}"] = episode.id
        by_id[episode.id] = episode
        by_guid.setdefault(episode.guid, []).append(episode)
    resolved: dict[str, EpisodeOverride] = {}
    for override in overrides.episodes:
        target = _target(overrides.path, override, by_path, by_id, by_guid)
        _check_topics(overrides.path, override, topic_rank)
        if target in resolved:
            message = f"this episode already has an override at line {resolved[target].line}"
            raise ConfigError(overrides.path, message, override.line)
        resolved[target] = override
    return resolved


def _target(
    path: Path,
    override: EpisodeOverride,
    by_path: Mapping[str, str],
    by_id: Mapping[str, Episode],
    by_guid: Mapping[str, list[Episode]],
) -> str:
    if override.episode is not None:
        found = [by_path[override.episode]] if override.episode in by_path else []
        key = "episode"
    elif override.id is not None:
        found = [override.id] if override.id in by_id else []
        key = "id"
    else:
        matches = by_guid.get(override.guid or "", [])
        found = [e.id for e in matches if override.podcast in (None, e.podcast)]
        key = "guid"
    if override.podcast is not None and override.id is not None and found:
        found = [i for i in found if by_id[i].podcast == override.podcast]
    if not found:
        message = f"no archived episode matches {override.selector!r}"
        raise ConfigError(path, message, override.line_of(key), key)
    if len(found) > 1:
        message = "several podcasts use this guid: add podcast: <slug>"
        raise ConfigError(path, message, override.line_of(key), key)
    return found[0]


def _check_topics(path: Path, override: EpisodeOverride, topic_rank: Mapping[str, int]) -> None:
    for key in ("add_topics", "remove_topics"):
        unknown = [t for t in getattr(override, key) if t not in topic_rank]
        if unknown:
            message = f"unknown topic {unknown[0]!r} (feeds.yaml defines: {', '.join(topic_rank)})"
            raise ConfigError(path, message, override.line_of(key), key)


def apply_override(
    episode: Episode, override: EpisodeOverride | None, topic_rank: Mapping[str, int]
) -> Episode | None:
    """The curated episode, or None when hidden. Topics feeds.yaml no longer has are dropped."""
    topics = set(episode.topics)
    if override is not None:
        if override.hide:
            return None
        topics = (topics | set(override.add_topics)) - set(override.remove_topics)
        episode = replace(
            episode,
            title=override.title or episode.title,
            featured=bool(override.feature),
        )
    ordered = tuple(sorted((t for t in topics if t in topic_rank), key=topic_rank.__getitem__))
    return replace(episode, topics=ordered) if ordered != episode.topics else episode
