"""Hand-written pages: content/*.md with YAML front matter, rendered by markdown-it-py.

Raw HTML is disabled, so a page cannot inject a script; links that start with "/" are
rewritten under the site's base path so they keep working on a GitHub Pages project site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from devcasts.errors import ConfigError
from devcasts.site import urls
from devcasts.util.text import slugify

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*\r?\n?", re.DOTALL | re.MULTILINE)


@dataclass(frozen=True, slots=True)
class ContentPage:
    slug: str  # its path is urls.content_page(slug)
    title: str
    description: str
    html: str  # rendered Markdown, safe to mark as such
    source: Path


def load_content_pages(content_dir: Path, base_path: str) -> list[ContentPage]:
    """Every content/*.md, sorted by slug; a malformed one raises ConfigError naming it."""
    if not content_dir.is_dir():
        return []
    pages = [_load(path, base_path) for path in sorted(content_dir.glob("*.md"))]
    return [page for page in pages if page is not None]


def _load(path: Path, base_path: str) -> ContentPage | None:
    slug = slugify(path.stem)
    if slug in urls.RESERVED_NAMES or path.stem.startswith(("_", ".")):
        return None
    text = path.read_text(encoding="utf-8")
    meta, body = _split_front_matter(text, path)
    title = _meta_text(meta, "title", path) or _first_heading(body) or path.stem
    description = _meta_text(meta, "description", path)
    html = render_markdown(body, base_path)
    return ContentPage(slug, title, description, html, path)


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, object], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1  # +1 for the opening ---, +1 1-based
        raise ConfigError(path, f"front matter is not valid YAML: {error}", line) from None
    if not isinstance(meta, dict):
        raise ConfigError(path, "front matter must be a mapping (key: value lines)", 2)
    return meta, text[match.end() :]


def _meta_text(meta: dict[str, object], key: str, path: Path) -> str:
    value = meta.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise ConfigError(path, "must be text", 2, key=key)
    return str(value).strip()


def _first_heading(body: str) -> str:
    for line in body.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def render_markdown(body: str, base_path: str) -> str:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    tokens = md.parse(body)
    _rebase_links(tokens, base_path)
    html: str = md.renderer.render(tokens, md.options, {})
    return html


def _rebase_links(tokens: list[Token], base_path: str) -> None:
    """Site-absolute links ("/podcasts/") point under the base path ("/devcasts/podcasts/")."""
    for token in tokens:
        if token.children:
            _rebase_links(token.children, base_path)
        for attr in ("href", "src"):
            value = token.attrGet(attr)
            if isinstance(value, str) and value.startswith("/") and not value.startswith("//"):
                token.attrSet(attr, urls.href(base_path, value.lstrip("/")))
