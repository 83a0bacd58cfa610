"""feeds.yaml -> Config, with errors that name the file, the line and the key.

Validation (config_yaml) walks PyYAML's node tree. Importing PyYAML and walking a file of 200
feeds costs about 20 ms, which is a tenth of a build that finds nothing new; so, given the
build's cache folder, the last validated Config is kept there (config.pickle) under a key made
of the file's exact bytes, where it was read from, the arguments that shape the Config, the
Python version and the source of the code that validates it. Any other key, or a memo that
cannot be read, is a miss: the file is validated again and the memo rewritten. The file stays
the truth; a file with an error is never memoized, so its error is reported every time.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from devcasts.errors import ConfigError
from devcasts.model import Config
from devcasts.util.atomic import replace_file
from devcasts.util.text import source_fingerprint

MEMO_FILE = "config.pickle"
_MEMO_FORMAT = b"devcasts config memo 1"
# The code whose output the memo holds (the validator and the model, slugs and topic patterns
# it uses): a change to any of them invalidates it.
_CODE_MODULES = ("config/load", "config/schema", "model", "util/text", "ingest/topics")


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


def _memo(
    cache_dir: Path, path: Path, data: bytes, base_url: str | None, templates: Path
) -> _Memo | None:
    """The memo under the key of everything the validated Config depends on; None when the
    validator's source cannot be read. Local feed paths are resolved against the working
    folder, so it is part of the key."""
    here = Path(__file__).parents[1]
    code = source_fingerprint(here / f"{name}.py" for name in _CODE_MODULES)
    if code is None:
        return None
    digest = hashlib.sha256(_MEMO_FORMAT)
    for part in (code, str(Path.cwd()), str(path), str(base_url), str(templates)):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    digest.update(data)
    return _Memo(cache_dir / MEMO_FILE, digest.hexdigest().encode("ascii"))


class _Memo:
    """`<key>\\n<pickled Config>` in one file, replaced whole."""

    def __init__(self, file: Path, key: bytes) -> None:
        self.file = file
        self.key = key

    def recall(self) -> Config | None:
        try:
            key, _, pickled = self.file.read_bytes().partition(b"\n")
            if key != self.key:
                return None
            config = pickle.loads(pickled)  # noqa: S301 (the cache folder is the user's own)
        except Exception:  # missing, torn, or written by other code: validate afresh
            return None
        if not isinstance(config, Config):
            return None
        # A local feed file that has gone since is reported by validating the file again.
        if not all(Path(feed.url).is_file() for feed in config.feeds if feed.is_local):
            return None
        return config

    def keep(self, config: Config) -> None:
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            replace_file(self.file, self.key + b"\n" + pickle.dumps(config, protocol=5))
        except (OSError, pickle.PicklingError):
            pass  # a memo that cannot be written costs time, not a build
