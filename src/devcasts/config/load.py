"""feeds.yaml -> Config, with errors that name the file, the line and the key.

Validation (config/schema.py) walks PyYAML's node tree. Importing PyYAML and the validator
and walking a file of 200 feeds costs 25-30 ms of CPU, a tenth of a build that finds nothing
new; so, given the build's cache folder, the last validated Config is kept there (config.json,
a util.cache file) under a fingerprint of the file's exact bytes, where it was read from, the
arguments that shape the Config, and the source of the code that validates it. Any other
fingerprint, or a memo that cannot be read, is a miss: the file is validated again and the
memo rewritten. The file stays the truth; a file with an error is never memoized, so its error
is reported every time.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from devcasts.errors import ConfigError
from devcasts.model import Config, FeedSource, SiteConfig, Topic
from devcasts.util.cache import CacheFile, fingerprint

MEMO_FILE = "config.json"
MEMO_VERSION = 1
# The code whose output the memo holds (the validator and the model, slugs and topic patterns
# it uses), named rather than imported: the validator imports PyYAML.
_CODE = (
    "devcasts.config.load",
    "devcasts.config.schema",
    "devcasts.model",
    "devcasts.util.text",
    "devcasts.ingest.topics",
)


def load_config(
    path: Path,
    *,
    base_url: str | None = None,
    templates_dir: Path | None = None,
    cache_dir: Path | None = None,
) -> Config:
    """Read and validate feeds.yaml. `base_url` overrides the site's (for --base-url); with
    `cache_dir`, an unchanged file is not validated again (see the module's notes)."""
    path = Path(path)
    data = _read(path)
    templates = templates_dir or default_templates_dir(path)
    memo = None if cache_dir is None else _memo(Path(cache_dir), path, data, base_url, templates)
    if memo is not None:
        config = memo.recall()
        if config is not None:
            return config
    from devcasts.config.schema import (
        parse_config,  # imports PyYAML: only when the memo does not apply
    )

    config = parse_config(
        path,
        _decode(path, data),
        base_url=base_url,
        templates_dir=templates,
        content_dir=path.parent / "content",
    )
    if memo is not None:
        memo.keep(config)
    return config


def config_warnings(config: Config) -> list[str]:
    """What a valid config will cost the published site, for `devcasts check` to say."""
    warnings = []
    if not config.site.email:
        warnings.append(
            f"{config.path}: site.email: not set: the published feeds have no itunes:owner, "
            "which Apple Podcasts asks for to verify who owns a feed"
        )
    return warnings


def default_templates_dir(feeds_path: Path) -> Path:
    """The site's own templates/, beside its feeds.yaml: files there override the theme that
    ships in the package (devcasts.site.templates); the folder may be missing."""
    return feeds_path.parent / "templates"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, "file not found") from None
    except OSError as exc:
        raise ConfigError(path, f"cannot read: {exc}") from None


def _decode(path: Path, data: bytes) -> str:
    """As a text file is read: UTF-8, with \\r\\n and \\r as \\n."""
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(path, f"cannot read: {exc}") from None
    return decoded.replace("\r\n", "\n").replace("\r", "\n")


def _memo(cache_dir: Path, path: Path, data: bytes, base_url: str | None, templates: Path) -> _Memo:
    """The memo under the fingerprint of everything the validated Config depends on. Local
    feed paths are resolved against the working folder, so it is part of it."""
    key = fingerprint(
        code=_CODE,
        feeds_yaml=data,
        path=str(path),
        working_folder=str(Path.cwd()),
        base_url=str(base_url),
        templates=str(templates),
    )
    return _Memo(CacheFile(cache_dir / MEMO_FILE, MEMO_VERSION, key))


class _Memo:
    """The validated Config as JSON, in one cache file."""

    def __init__(self, file: CacheFile) -> None:
        self.file = file

    def recall(self) -> Config | None:
        config = _config_from_json(self.file.load(dict))
        if config is None:
            return None
        # A local feed file that has gone since is reported by validating the file again.
        if not all(Path(feed.url).is_file() for feed in config.feeds if feed.is_local):
            return None
        return config

    def keep(self, config: Config) -> None:
        self.file.save(_config_to_json(config))


def _config_to_json(config: Config) -> dict[str, Any]:
    return {
        "site": asdict(config.site),
        "topics": [asdict(topic) for topic in config.topics],
        "feeds": [asdict(feed) for feed in config.feeds],
        "path": str(config.path),
        "content_dir": str(config.content_dir),
        "templates_dir": str(config.templates_dir),
    }


def _config_from_json(value: dict[str, Any] | None) -> Config | None:
    """The Config `_config_to_json` made; None for anything else."""
    if value is None:
        return None
    try:
        return Config(
            site=SiteConfig(**value["site"]),
            topics=tuple(
                Topic(**{**topic, "patterns": tuple(topic["patterns"])})
                for topic in value["topics"]
            ),
            feeds=tuple(FeedSource(**feed) for feed in value["feeds"]),
            path=Path(value["path"]),
            content_dir=Path(value["content_dir"]),
            templates_dir=Path(value["templates_dir"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
