"""feeds.yaml's text -> Config, with errors that name the file, the line and the key.

The YAML is read as a node tree (yaml.compose) rather than plain data so that every value
still knows its line; validation walks the nodes. config.load_config reads the file and
calls parse_config only when its memo of the last result does not apply.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import yaml

from devcasts.errors import ConfigError
from devcasts.model import Config, FeedSource, Include, SiteConfig, Topic
from devcasts.util.text import ascii_slug

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_SITE_KEYS = {
    "title",
    "base_url",
    "description",
    "language",
    "author",
    "email",
    "image",
    "feed_limit",
    "block",
    "page_size",
}
_TOPIC_KEYS = {"slug", "name", "patterns", "description"}
_FEED_KEYS = {"url", "include", "title", "slug", "weight"}
_TOP_KEYS = {"site", "topics", "feeds"}
# Longest text each field of `site:` may hold (characters): Apple's limits where it has them;
# anything longer is a mistake (a pasted file), not a title.
_SITE_TEXT_LIMITS = {
    "title": 255,
    "description": 4000,
    "language": 35,
    "author": 255,
    "email": 254,
    "image": 2048,
}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONSTRUCTOR = yaml.SafeLoader("")  # turns one scalar node into its Python value
# libyaml composes the same node tree, marks included, several times faster.
_COMPOSER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class _Ctx:
    path: Path

    def error(self, node: yaml.Node | None, key: str, message: str) -> ConfigError:
        line = node.start_mark.line + 1 if node is not None else None
        return ConfigError(self.path, message, line=line, key=key)


def parse_config(
    path: Path, text: str, *, base_url: str | None, templates_dir: Path, content_dir: Path
) -> Config:
    """Validate the text of feeds.yaml (read from `path`, which error messages name)."""
    ctx = _Ctx(path)
    root = _compose(ctx, text)
    top = _mapping(ctx, root, "(top level)", _TOP_KEYS)
    if "site" not in top:
        raise ctx.error(root, "site", "missing: the site needs at least a title and a base_url")
    site = _site(ctx, top["site"], base_url)
    topics = _topics(ctx, top.get("topics"))
    feeds = _feeds(ctx, top.get("feeds"), path.parent)
    return Config(
        site=site,
        topics=topics,
        feeds=feeds,
        path=path,
        content_dir=content_dir,
        templates_dir=templates_dir,
    )


def _compose(ctx: _Ctx, text: str) -> yaml.Node:
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(ctx.path, f"not valid YAML: {exc.problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise ConfigError(ctx.path, f"not valid YAML: {exc}") from None
    if node is None:
        raise ConfigError(ctx.path, "the file is empty")
    return node


def _mapping(ctx: _Ctx, node: yaml.Node, key: str, allowed: set[str]) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise ctx.error(node, key, "expected a mapping of keys to values")
    result: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        name = str(key_node.value)
        if name not in allowed:
            choices = ", ".join(sorted(allowed))
            raise ctx.error(key_node, name, f"unknown key (expected one of: {choices})")
        if name in result:
            raise ctx.error(key_node, name, "given twice")
        result[name] = value_node
    return result


def _scalar(ctx: _Ctx, node: yaml.Node, key: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise ctx.error(node, key, "expected a single value")
    try:
        return _CONSTRUCTOR.construct_object(node, deep=True)
    except yaml.YAMLError:  # a tag the safe loader refuses (!!python/object:...) or misreads
        raise ctx.error(node, key, f"unsupported YAML tag {node.tag}") from None


def _string(ctx: _Ctx, node: yaml.Node, key: str, *, required: bool = True) -> str:
    value = _scalar(ctx, node, key)
    if value is None and not required:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ctx.error(node, key, "expected text")
    text = str(value).strip()
    if required and not text:
        raise ctx.error(node, key, "must not be empty")
    return text


def _http_url(ctx: _Ctx, node: yaml.Node, key: str) -> str:
    url = _string(ctx, node, key)
    problem = http_url_problem(url)
    if problem:
        raise ctx.error(node, key, f"{problem}: {url!r}")
    return _lower_scheme(url)


def http_url_problem(url: str) -> str | None:
    """Why `url` is not an absolute http(s) URL that a build can fetch or link to, or None.
    Names what a fetch would trip on (brackets, ports, IDNA labels) before any build runs."""
    if any(char.isspace() or not char.isprintable() for char in url):
        return "a URL cannot contain spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number 0-65535
    except ValueError as error:
        return f"not a valid URL ({error})"
    if parts.scheme.lower() not in ("http", "https"):
        return "expected an absolute http(s) URL"
    if not parts.hostname:
        return "not a valid URL (no host)"
    return _idna_problem(parts.hostname)


def _idna_problem(host: str) -> str | None:
    """Why an internationalized host name cannot be encoded, or None. The idna package (which
    httpx uses) loads in 60 ms, so only for a host that needs it."""
    if host.isascii() and not any(label.startswith("xn--") for label in host.split(".")):
        return None
    import idna

    try:
        idna.encode(host) if not host.isascii() else idna.decode(host)
    except (idna.IDNAError, UnicodeError) as error:
        return f"not a valid host name {host!r} ({error})"
    return None


def _lower_scheme(url: str) -> str:
    """The URL with its scheme in lower case: schemes are case-insensitive (RFC 3986), and
    elsewhere a URL is told from a local path by its prefix."""
    scheme = urlsplit(url).scheme
    return scheme.lower() + url[len(scheme) :]


def _site(ctx: _Ctx, node: yaml.Node, base_url_override: str | None) -> SiteConfig:
    fields = _mapping(ctx, node, "site", _SITE_KEYS)
    for required in ("title", "base_url"):
        if required not in fields and not (required == "base_url" and base_url_override):
            raise ctx.error(node, f"site.{required}", "missing")
    if base_url_override:
        problem = http_url_problem(base_url_override)
        if problem:
            raise ConfigError(ctx.path, f"{problem}: {base_url_override!r}", key="--base-url")
        base_url = _lower_scheme(base_url_override)
    else:
        base_url = _http_url(ctx, fields["base_url"], "site.base_url")
    if not base_url.endswith("/"):
        base_url += "/"
    values: dict[str, Any] = {"title": _string(ctx, fields["title"], "site.title")}
    for key in ("description", "language", "author", "email", "image"):
        if key in fields:
            values[key] = _string(ctx, fields[key], f"site.{key}", required=False) or None
    for key, limit in _SITE_TEXT_LIMITS.items():
        if len(values.get(key) or "") > limit:
            message = f"too long: {len(values[key])} characters, at most {limit}"
            raise ctx.error(fields[key], f"site.{key}", message)
    if values.get("email") and not _EMAIL.match(values["email"]):
        raise ctx.error(fields["email"], "site.email", "expected an address like you@example.org")
    for key in ("feed_limit", "page_size"):
        if key in fields:
            values[key] = _positive_int(ctx, fields[key], f"site.{key}")
    if "block" in fields:
        block = _scalar(ctx, fields["block"], "site.block")
        if not isinstance(block, bool):
            raise ctx.error(fields["block"], "site.block", "expected true or false")
        values["block"] = block
    values = {k: v for k, v in values.items() if v is not None}
    return SiteConfig(base_url=base_url, **values)


def _positive_int(ctx: _Ctx, node: yaml.Node, key: str) -> int:
    value = _scalar(ctx, node, key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ctx.error(node, key, "expected a whole number of at least 1")
    return value


def _sequence(ctx: _Ctx, node: yaml.Node | None, key: str) -> list[yaml.Node]:
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
        return []
    if not isinstance(node, yaml.SequenceNode):
        raise ctx.error(node, key, "expected a list")
    return list(node.value)


def _topics(ctx: _Ctx, node: yaml.Node | None) -> tuple[Topic, ...]:
    topics: list[Topic] = []
    seen: set[str] = set()
    for i, item in enumerate(_sequence(ctx, node, "topics")):
        where = f"topics[{i}]"
        fields = _mapping(ctx, item, where, _TOPIC_KEYS)
        for required in ("slug", "name", "patterns"):
            if required not in fields:
                raise ctx.error(item, f"{where}.{required}", "missing")
        slug = _string(ctx, fields["slug"], f"{where}.slug")
        if not _SLUG.match(slug):
            raise ctx.error(fields["slug"], f"{where}.slug", "use lower-case letters, digits, -")
        if slug in seen:
            raise ctx.error(fields["slug"], f"{where}.slug", f"topic {slug!r} is defined twice")
        seen.add(slug)
        patterns = tuple(
            _pattern(ctx, p, f"{where}.patterns")
            for p in _sequence(ctx, fields["patterns"], f"{where}.patterns")
        )
        if not patterns:
            raise ctx.error(fields["patterns"], f"{where}.patterns", "needs at least one pattern")
        description = ""
        if "description" in fields:
            description = _string(
                ctx, fields["description"], f"{where}.description", required=False
            )
        name = _string(ctx, fields["name"], f"{where}.name")
        topics.append(Topic(slug=slug, name=name, patterns=patterns, description=description))
    return tuple(topics)


def _pattern(ctx: _Ctx, node: yaml.Node, key: str) -> str:
    from devcasts.ingest.topics import validate_pattern

    pattern = _string(ctx, node, key)
    problem = validate_pattern(pattern)
    if problem:
        raise ctx.error(node, key, problem)
    return pattern


def _feeds(ctx: _Ctx, node: yaml.Node | None, base_dir: Path) -> tuple[FeedSource, ...]:
    items = _sequence(ctx, node, "feeds")
    if not items:
        raise ctx.error(node, "feeds", "no feeds: add at least one `- url: ...` entry")
    sources: list[FeedSource] = []
    slugs: dict[str, int] = {}
    urls: dict[str, int] = {}  # by _same_feed_key
    for i, item in enumerate(items):
        source = _feed(ctx, item, f"feeds[{i}]", base_dir)
        if source.slug in slugs:
            raise ctx.error(
                _value_node(item, "slug") or item,
                f"feeds[{i}].slug",
                f"slug {source.slug!r} is already used on line {slugs[source.slug]}: "
                "give one of them a `slug:` of its own",
            )
        key = _same_feed_key(source.url)
        if key in urls:
            raise ctx.error(item, f"feeds[{i}].url", f"same feed as on line {urls[key]}")
        slugs[source.slug] = urls[key] = source.line
        sources.append(source)
    return tuple(sources)


def _same_feed_key(url: str) -> str:
    """What two URLs of the same feed share: the host's case and a default port (:443 on
    https) do not make another feed. A local path is its own key."""
    if url.startswith(("http://", "https://")):
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        if parts.port is not None and parts.port != _DEFAULT_PORTS[parts.scheme]:
            host += f":{parts.port}"
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{host}" if userinfo else host
        return SplitResult(parts.scheme, netloc, parts.path or "/", parts.query, "").geturl()
    return url


def _value_node(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key:
                return value_node  # type: ignore[no-any-return]
    return None


def _feed(ctx: _Ctx, node: yaml.Node, where: str, base_dir: Path) -> FeedSource:
    fields = _mapping(ctx, node, where, _FEED_KEYS)
    if "url" not in fields:
        raise ctx.error(node, f"{where}.url", "missing")
    raw_url = _string(ctx, fields["url"], f"{where}.url")
    url = _feed_location(ctx, fields["url"], f"{where}.url", raw_url, base_dir)
    include: Include = "all"
    if "include" in fields:
        value = _string(ctx, fields["include"], f"{where}.include")
        if value not in ("all", "topics"):
            raise ctx.error(fields["include"], f"{where}.include", "expected `all` or `topics`")
        include = "topics" if value == "topics" else "all"
    title = _string(ctx, fields["title"], f"{where}.title") if "title" in fields else None
    if "slug" in fields:
        slug = _string(ctx, fields["slug"], f"{where}.slug")
        if not _SLUG.match(slug):
            raise ctx.error(fields["slug"], f"{where}.slug", "use lower-case letters, digits, -")
    else:
        # The feed's key; unless given, its page's slug is chosen from the feed's title when
        # it is first archived (archive/podcast_slugs.py).
        slug = ascii_slug(title) if title else _key_from_url(raw_url)
    weight = 1.0
    if "weight" in fields:
        value = _scalar(ctx, fields["weight"], f"{where}.weight")
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < 0
        ):
            raise ctx.error(fields["weight"], f"{where}.weight", "expected a number >= 0")
        weight = float(value)
    return FeedSource(
        url=url,
        slug=slug,
        include=include,
        title=title,
        weight=weight,
        line=node.start_mark.line + 1,
        slug_given="slug" in fields,
    )


def _feed_location(ctx: _Ctx, node: yaml.Node, key: str, raw: str, base_dir: Path) -> str:
    try:
        scheme = urlsplit(raw).scheme.lower()
    except ValueError:
        scheme = "http" if raw[:4].lower() == "http" else ""
    if scheme in ("http", "https"):
        problem = http_url_problem(raw)
        if problem:
            raise ctx.error(node, key, f"{problem}: {raw!r}")
        return _lower_scheme(raw)
    if scheme and len(scheme) > 1:  # one letter is a Windows drive, not a scheme
        raise ctx.error(node, key, f"only http, https or a local path are allowed, not {scheme}:")
    if "\x00" in raw:
        raise ctx.error(node, key, "a path cannot contain a NUL character")
    folder = base_dir.resolve()
    path = (folder / raw).resolve()
    if not path.is_relative_to(folder):
        raise ctx.error(
            node, key, f"{path} is outside {folder}, the folder of feeds.yaml: copy it there"
        )
    if not path.is_file():
        raise ctx.error(node, key, f"no such file: {path}")
    return str(path)


def _key_from_url(url: str) -> str:
    """A feed's key when feeds.yaml gives it neither slug nor title. Never shown: episode ids
    hash it, so it is made exactly as in earlier versions (host and path, ASCII)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        host = parts.netloc.lower().removeprefix("www.").removeprefix("feeds.")
        path = re.sub(r"(?i)(/|\.xml|\.rss|/feed|/rss|/podcast)+$", "", parts.path)
        return ascii_slug(f"{host} {path}")
    return ascii_slug(Path(url).stem)
