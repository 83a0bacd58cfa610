"""Show notes and plain-text fields made safe: every feed field is hostile until it passes here.

- `sanitize_html`: nh3 with an allowlist fit for show notes; links and images cleaned.
- `notes_to_html`: HTML or plain text in, sanitized HTML out (paragraphs, linked URLs).
- `html_to_text` / `summarize`: plain text for search and for lists.
- `clean_url` / `clean_text`: single URLs and plain-text fields (titles, names).

All functions are pure and deterministic.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections import Counter
from contextvars import ContextVar
from urllib.parse import unquote, urljoin, urlsplit

import nh3

from devcasts.ingest.privacy import is_pixel_size, is_tracking_image, is_tracking_parameter
from devcasts.util.text import is_long_notes

# --- allowlist ------------------------------------------------------------------------------

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "a", "ul", "ol", "li", "strong", "em", "b", "i", "code", "pre",
        "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "img",
    }
)  # fmt: skip
# h1, h5 and h6 are let through nh3 only to be renamed right after (see _tidy_markup).

# Elements removed together with everything inside them, never shown as text.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "svg", "math", "form", "noscript", "textarea", "iframe", "object",
        "embed", "template", "select", "button", "applet", "noembed", "noframes", "frameset",
        "frame", "xmp", "title", "head", "audio", "video", "canvas", "map", "datalist",
    }
)  # fmt: skip

ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"}}
LINK_REL = "nofollow noopener ugc"
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
WEB_SCHEMES = ("http", "https")

# Every <img> kept says: load it late, without telling its host which page showed it.
IMAGE_PRIVACY_ATTRIBUTES = {"loading": "lazy", "decoding": "async", "referrerpolicy": "no-referrer"}


# --- URLs -----------------------------------------------------------------------------------

_URL_STRIPPED_INSIDE = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# C0 controls, spaces (Unicode ones too: "\u00a0javascript:" must not pass as a relative URL)
_URL_EDGE_JUNK = "".join(
    [chr(code) for code in range(0x21)]
    + [chr(code) for code in range(0x2000, 0x200C)]
    + ["\u00a0", "\u1680", "\u180e", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff"]
)
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def clean_url(url: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL without tracking parameters, or None when there is none to keep.

    Relative URLs are resolved against `base`; protocol-relative ones ("//host/x") default to
    https when there is no base. Everything but the removed parameters is kept byte for byte
    (apart from a lower-cased scheme and spaces written as %20), so the result is idempotent.
    """
    if len(url) > _CACHED_URL_CHARS:
        return _clean_url(url, base)
    return _clean_url_cached(url, base)


_CACHED_URL_CHARS = 2048  # feeds repeat their links (sponsors, socials) episode after episode


def _clean_url(url: str, base: str | None) -> str | None:
    absolute = _absolute_url(url, base)
    if absolute is None:
        return None
    stripped = _strip_tracking(absolute)
    # A removed query can leave at the end what the first pass strips from an edge
    # ("http://0\xa0?" -> "http://0\xa0"): clean that again, so the result is idempotent.
    return stripped if stripped == absolute else _clean_url(stripped, None)


_clean_url_cached = functools.lru_cache(maxsize=8192)(_clean_url)


def _absolute_url(url: str, base: str | None) -> str | None:
    candidate = _URL_STRIPPED_INSIDE.sub("", url).strip(_URL_EDGE_JUNK)
    if not candidate or _URL_CONTROL.search(candidate):
        return None
    candidate = candidate.replace(" ", "%20")
    if _SCHEME.match(candidate) is None:
        resolved = _resolve_relative(candidate, base)
        if resolved is None:
            return None
        candidate = resolved
    scheme_match = _SCHEME.match(candidate)
    if scheme_match is None or scheme_match.group(1).lower() not in WEB_SCHEMES:
        return None
    scheme = scheme_match.group(1).lower()
    candidate = scheme + candidate[len(scheme) :]
    return candidate if _has_host(candidate) else None


def _resolve_relative(url: str, base: str | None) -> str | None:
    if base is not None:
        base_url = _absolute_base(base)
        if base_url is not None:
            if _ROOT_PATH.match(url):  # "/episodes/12": the base's origin and the path
                return _origin(base_url) + url
            try:
                return urljoin(base_url, url)
            except ValueError:
                return None
    if url.startswith("//"):
        return "https:" + url
    return None


# A path from the root that urljoin would copy as it is: no dot segments, no backslash, no
# empty query, fragment or parameters (urljoin drops a bare "?", "#" or ";"). Notes link
# thousands of them.
_ROOT_PATH = re.compile(r"(?![^?#]*/\.)/(?![/\\])[^?#\\;]*(?:\?[^#\\]+)?\Z")


@functools.lru_cache(maxsize=256)
def _absolute_base(base: str) -> str | None:
    return _absolute_url(base, None)


@functools.lru_cache(maxsize=256)
def _origin(absolute: str) -> str:
    parts = urlsplit(absolute)
    return f"{parts.scheme}://{parts.netloc}"


def _has_host(url: str) -> bool:
    # A plain host is what nearly every feed links to; urlsplit is the slow way to find it.
    return _PLAIN_HOST.match(url) is not None or _has_parsed_host(url)


def _has_parsed_host(url: str) -> bool:
    if not url.split(":", 1)[1].startswith("//"):
        return False  # "http:example.com" is relative to nothing
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    # A host of white space only ("http://\xa0?") is none: it would be stripped as edge junk
    # once the empty query went, and the URL would not survive a second cleaning.
    return hostname is not None and bool(hostname.strip(_URL_EDGE_JUNK))


# A host of letters, digits, dots and hyphens (no user, port or brackets): urlsplit would find
# it and raise nothing.
_PLAIN_HOST = re.compile(r"[a-z]+://[A-Za-z0-9.-]+(?:[/?#]|$)")


def _strip_tracking(url: str) -> str:
    without_fragment, hash_sign, fragment = url.partition("#")
    path, question, query = without_fragment.partition("?")
    if question:
        kept = [pair for pair in query.split("&") if pair and not _is_tracking_pair(pair)]
        without_fragment = path + ("?" + "&".join(kept) if kept else "")
    return without_fragment + hash_sign + fragment


def _is_tracking_pair(pair: str) -> bool:
    return is_tracking_parameter(pair.split("=", 1)[0])


# One address: no spaces, quotes or brackets; a dotted domain of letters, digits and hyphens.
_MAIL_ADDRESS = re.compile(
    r"[^\s@<>()\[\]\\,;:\"]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}", re.UNICODE
)
_MAIL_QUERY = re.compile(r"[^\s<>\"\\]*")


def clean_mailto(url: str) -> str | None:
    """A mailto: URL whose addresses are all valid, or None (the link is then shown as text).

    Feeds write "mailto:Ada Lovelace <ada@example.org>" or "mailto:send us a note": neither
    is a valid URL, and a reader's mail program would not know what to do with it.
    """
    scheme, _, rest = url.strip().partition(":")
    if scheme.lower() != "mailto" or not rest:
        return None
    addresses, question, query = rest.partition("?")
    if not all(_MAIL_ADDRESS.fullmatch(unquote(a)) for a in addresses.split(",")):
        return None
    if question and not _MAIL_QUERY.fullmatch(query):
        return None
    return f"mailto:{rest}"


# --- HTML -----------------------------------------------------------------------------------

_HEADING_RENAMES = {"h1": "h2", "h5": "h4", "h6": "h4"}
_HEADING_TAG = re.compile(r"<(/?)(h1|h5|h6)>")
# nh3 escapes "<" and ">" inside attribute values, so [^>] cannot run past the tag's end, and
# writes every attribute as name="value" with '"' escaped inside, so its names can be read
# without mistaking a value such as title="x alt=y" for an attribute.
_IMAGE = re.compile(r"<img\b([^>]*)>")
_LINK = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.DOTALL)  # links never nest in parsed HTML
_ATTRIBUTE_NAME = re.compile(r'\s([^\s="]+)(?:="[^"]*")?')
# A parser drops one newline right after <pre>, so leading ones would shrink on every pass.
_PRE_LEADING_NEWLINES = re.compile(r"<pre>(?:\r?\n)+")


def sanitize_html(html_text: str, base_url: str | None = None) -> str:
    """Sanitized show-notes HTML: only the allowlist survives; links and images are cleaned.

    Links keep only http, https and mailto and get rel="nofollow noopener ugc"; images keep only
    an http(s) src. Relative URLs are resolved against `base_url` and dropped when they cannot
    be. h1 becomes h2, h5 and h6 become h4 (the page owns h1). Tags nested deeper than
    MAX_DEPTH are dropped first (their text stays). The result sanitizes to itself.
    """
    token = _LINK_BASE.set(base_url)
    try:
        return _sanitized(bound_nesting(html_text), _cleaner())
    finally:
        _LINK_BASE.reset(token)


def _sanitized(html_text: str, cleaner: nh3.Cleaner) -> str:
    cleaned = cleaner.clean(html_text)
    for _ in range(_MAX_REPARSES):
        tidy = _tidy_markup(cleaned)
        if tidy == cleaned and not _nests_headings(cleaned):
            return _finished(cleaned)
        # Removing a tag can leave markup a parser reads differently ("<h2><a><h2>" without
        # the link nests two headings, which cannot nest), and a heading left inside another
        # (kept there by an open link) closes the outer one when read again: parse again
        # until nothing changes.
        cleaned = cleaner.clean(tidy)
    return _finished(_tidy_markup(cleaned))


_MAX_REPARSES = 3
_ANY_HEADING_TAG = re.compile(r"<(/?)h[1-6][\s>]")


def _nests_headings(html_text: str) -> bool:
    """A heading starts while another is open: serialized, it would not read back the same."""
    open_headings = 0
    for tag in _ANY_HEADING_TAG.finditer(html_text):
        if tag.group(1):
            open_headings = max(0, open_headings - 1)
        elif open_headings:
            return True
        else:
            open_headings = 1
    return False


# The base URL of the notes being sanitized, read by the one shared Cleaner's attribute filter
# (building a Cleaner per call cost about a tenth of normalize). A context variable keeps
# threads that sanitize at the same time apart.
_LINK_BASE: ContextVar[str | None] = ContextVar("_LINK_BASE", default=None)


@functools.cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        # Ours, kept when sanitized again (so the output is its own fixed point); a feed's own
        # values of these ("eager", "unsafe-url") go.
        tag_attribute_values={
            "img": {name: {value} for name, value in IMAGE_PRIVACY_ATTRIBUTES.items()}
        },
        attribute_filter=_keep_attribute,
        link_rel=LINK_REL,
        url_schemes=set(LINK_SCHEMES),
        strip_comments=True,
    )


# Block elements a <pre> cannot hold (it takes phrasing content only): flattened to their text.
_BLOCK_IN_PRE = re.compile(r"<(/?)(?:p|ul|ol|li|blockquote|pre|h[1-6])>")


def _tidy_markup(cleaned: str) -> str:
    """Drop links without a target; rename h1, h5, h6; flatten blocks inside <pre>."""
    tidy = _LINK.sub(_tidy_link, cleaned) if "<a" in cleaned else cleaned
    if "<pre>" in tidy:
        tidy = _PRE_BLOCK.sub(_flatten_pre, tidy)
    tidy = _PRE_LEADING_NEWLINES.sub("<pre>", tidy)
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}{_HEADING_RENAMES[m.group(2)]}>", tidy)


def _attribute_names(attributes: str) -> set[str]:
    return set(_ATTRIBUTE_NAME.findall(attributes))


def _finished(cleaned: str) -> str:
    """Images tidied, and no newline right after "<pre>": a parser drops the first one, and
    nh3 writes a pre's text as it is, so "<pre>\n\nx" (an image dropped before the newlines,
    a list turned into lines) would read back as "<pre>\nx", then "<pre>x". Leading blank
    lines of preformatted text are dropped: the output sanitizes to itself."""
    tidy = _tidy_images(cleaned)
    return _PRE_LEADING_NEWLINES.sub(r"\1", tidy) if "<pre" in tidy else tidy


_PRE_LEADING_NEWLINES = re.compile(r"(<pre\b[^>]*>)\n+")


def _tidy_images(cleaned: str) -> str:
    """Every image in one shape (see _tidy_image); a link left empty by a dropped image goes.

    Runs once the markup is stable: an image is a void element, so rewriting or removing one
    changes how nothing else parses."""
    if "<img" not in cleaned:
        return cleaned
    tidy = _IMAGE.sub(_tidy_image, cleaned)
    return _EMPTY_LINK.sub("", tidy) if tidy != cleaned else tidy


_EMPTY_LINK = re.compile(r"<a\b[^>]*></a>")
_ATTRIBUTE = re.compile(r'\s([^\s="]+)="([^"]*)"')
_IMAGE_KEPT_ORDER = ("src", "alt", "title", "width", "height")
_IMAGE_PRIVACY = "".join(f' {name}="{value}"' for name, value in IMAGE_PRIVACY_ATTRIBUTES.items())


def _tidy_image(match: re.Match[str]) -> str:
    """No source, or a 1x1 counting pixel: gone. Else the same attributes in a fixed order,
    an alt always (none is invalid HTML; alt="" says the image is decoration), and the
    privacy attributes: the output sanitizes to itself."""
    attributes = dict(_ATTRIBUTE.findall(match.group(1)))
    if "src" not in attributes or is_pixel_size(attributes.get("width"), attributes.get("height")):
        return ""
    attributes.setdefault("alt", "")
    kept = "".join(
        f' {name}="{attributes[name]}"' for name in _IMAGE_KEPT_ORDER if name in attributes
    )
    return f"<img{kept}{_IMAGE_PRIVACY}>"


def _tidy_link(match: re.Match[str]) -> str:
    """A link whose href was dropped is just its text."""
    return match.group(0) if "href" in _attribute_names(match.group(1)) else match.group(2)


def _flatten_pre(match: re.Match[str]) -> str:
    """A heading (or list, paragraph) inside <pre> becomes its text, on a line of its own."""
    block = match.group(0)
    inner = block[len("<pre>") : -len("</pre>")]
    if not _BLOCK_IN_PRE.search(inner):
        return block
    pieces: list[str] = []
    at_line_start = True  # no text yet since the start of the block or the last newline
    position = 0
    for tag in _BLOCK_IN_PRE.finditer(inner):
        between = inner[position : tag.start()]
        pieces.append(between)
        # Inline tags and trailing indentation do not move the text off its line start.
        visible = _ANY_TAG.sub("", between).rstrip(" \t")
        if visible:
            at_line_start = visible.endswith("\n")
        if tag.group(1) or not at_line_start:
            pieces.append("\n")
            at_line_start = True
        position = tag.end()
    pieces.append(inner[position:])
    return f"<pre>{''.join(pieces)}</pre>"


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: links and image sources cleaned against the current base."""
    if attribute == "href":
        stripped = value.strip()
        if stripped.lower().startswith("mailto:"):
            return clean_mailto(stripped)
        return clean_url(value, _LINK_BASE.get())
    if attribute == "src":
        return _image_source(value)
    if attribute in ("width", "height"):
        return _image_size(value)
    return value


_IMAGE_SIZE = re.compile(r"[0-9]{1,5}")  # pixels, as "300": "100%" or "auto" fix nothing


def _image_size(value: str) -> str | None:
    """A width or height in pixels, written plainly ("007" is 7), or None."""
    text = value.strip()
    return str(int(text)) if _IMAGE_SIZE.fullmatch(text) else None


def _image_source(value: str) -> str | None:
    """An image's source: gone when it only counts readers; http upgraded to https (a page
    served over https loads no http image, and browsers upgrade such images anyway)."""
    url = clean_url(value, _LINK_BASE.get())
    if url is None or is_tracking_image(url):
        return None
    return "https://" + url[len("http://") :] if url.startswith("http://") else url


# --- nesting depth -------------------------------------------------------------------------

MAX_DEPTH = 64
MAX_PENDING = 4
# An HTML parser slows down quadratically on deep nesting ("<div>" * 50000 took 4 s in nh3),
# and a formatting element left open is re-opened in every later paragraph: 200 KiB of
# "<p><b title=N>x</p>" grew to 1 GB of nested <b>. So, before nh3, one linear pass estimates
# the depth a browser would build and drops the tags beyond MAX_DEPTH, keeping their text.
# The estimate errs high (it follows only the common implied end tags), never low. Formatting
# elements left open across blocks are kept up to MAX_PENDING (a browser repeats each one in
# every later block, so more would multiply the size of the notes).

_TAG_OR_SKIPPED = re.compile(
    r"<!--.*?(?:-->|\Z)|<[!?][^>]*>?|<(/?)([a-zA-Z][^\s/>]*)[^>]*>?", re.DOTALL
)
_VOID_ELEMENTS = frozenset(
    {
        "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "image",
        "img", "input", "keygen", "link", "meta", "param", "source", "track", "wbr",
    }
)  # fmt: skip
# Their content is text to the parser, so nothing inside them nests.
_RAW_TEXT_ELEMENTS = frozenset(
    {"script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "textarea", "title"}
)
# A browser keeps these open across the blocks that close them, and opens them again after.
_FORMATTING_ELEMENTS = frozenset(
    {"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt",
     "u"}
)  # fmt: skip
# Ending one of these forgets the formatting elements opened inside it.
_FORMATTING_SCOPES = frozenset({"td", "th", "caption", "applet", "object", "marquee", "template"})
_CLOSES_P = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div",
        "dl", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
        "h6", "header", "hgroup", "hr", "listing", "main", "menu", "nav", "ol", "p", "pre",
        "section", "summary", "table", "ul",
    }
)  # fmt: skip
# A start tag of the key closes an open element of the same group, unless one of the
# boundary elements is open above it ("<li>" closes the last <li> of the same list).
_CLOSES_SIBLING = {
    "li": ({"li"}, {"ul", "ol"}),
    "dd": ({"dd", "dt"}, {"dl"}),
    "dt": ({"dd", "dt"}, {"dl"}),
    "option": ({"option"}, {"select", "datalist"}),
    "tr": ({"tr"}, {"table"}),
    "td": ({"td", "th"}, {"table", "tr"}),
    "th": ({"td", "th"}, {"table", "tr"}),
    "h1": ({"h1", "h2", "h3", "h4", "h5", "h6"}, set()),
}
for _heading in ("h2", "h3", "h4", "h5", "h6"):
    _CLOSES_SIBLING[_heading] = _CLOSES_SIBLING["h1"]


def bound_nesting(html_text: str, max_depth: int = MAX_DEPTH) -> str:
    """`html_text` without the tags a parser would nest deeper than `max_depth` (their text
    stays). An element removed with its content (DROPPED_WITH_CONTENT) that starts too deep goes
    whole. Linear in the length of the text; text with few tags is returned as it is."""
    if html_text.count("<") <= max_depth or _possible_depth(html_text) <= max_depth:
        return html_text
    return _NestingBound(max_depth).apply(html_text)


def _possible_depth(html_text: str) -> int:
    """The number of start tags that are not line breaks or images: no parser nests deeper."""
    return len(_START_TAG.findall(html_text)) - len(_COMMON_VOID_TAG.findall(html_text))


_START_TAG = re.compile(r"<[a-zA-Z]")
_COMMON_VOID_TAG = re.compile(r"<(?:br|img|hr|wbr)(?=[\s/>])", re.IGNORECASE)


# What the pass needs to know of an element, looked up once per tag.
_VOID, _RAW_TEXT, _FORMATTING, _CLOSES_P_FLAG, _SCOPE, _DROPPED, _ENDS_OWN_KIND = (
    1, 2, 4, 8, 16, 32, 64
)  # fmt: skip
_ELEMENT_FLAGS: dict[str, int] = {}
for _flag, _names in (
    (_VOID, _VOID_ELEMENTS),
    (_RAW_TEXT, _RAW_TEXT_ELEMENTS),
    (_FORMATTING, _FORMATTING_ELEMENTS),
    (_CLOSES_P_FLAG, _CLOSES_P),
    (_SCOPE, _FORMATTING_SCOPES),
    (_DROPPED, DROPPED_WITH_CONTENT),
    (_ENDS_OWN_KIND, frozenset({"a", "nobr"})),  # they cannot nest: a new one ends the last
):
    for _name in _names:
        _ELEMENT_FLAGS[_name] = _ELEMENT_FLAGS.get(_name, 0) | _flag
_SIBLING_RULES = {
    name: (tuple(sorted(names)), frozenset(boundaries))
    for name, (names, boundaries) in _CLOSES_SIBLING.items()
}
_P_RULE = (("p",), frozenset({"button"}))


class _NestingBound:
    """One pass: the elements a browser would have open, and the formatting elements it closed
    but would open again at the next text ("pending").

    The pass runs only on notes with many tags, and hostile notes have hundreds of thousands:
    the per-tag work is kept to a flag lookup and plain dicts (no Counter, no sets built)."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        # open elements: name, start tag, how many were pending when it opened, where it starts
        self.open: list[tuple[str, str, int, int]] = []
        self.open_count: dict[str, int] = {}  # spares a look through `open` for each tag
        self.pending: list[tuple[str, str]] = []  # name, start tag
        self.dropped: dict[str, int] = {}  # start tags dropped, by name: drop their ends
        self.removed: list[tuple[int, int]] = []  # spans of the text that go

    def apply(self, html_text: str) -> str:
        position: int | None = 0
        while position is not None:
            position = self._scan(html_text, position)
        return _without_spans(html_text, self.removed)

    def _scan(self, html_text: str, position: int) -> int | None:
        """Follow the tags from `position`; where the scan must jump over text (raw text, an
        element dropped whole), the position to go on from, else None at the end.

        A start tag is handled here in full: this loop runs once per tag of hostile notes."""
        flags_of = _ELEMENT_FLAGS.get
        rules = _SIBLING_RULES
        opened, open_count, pending = self.open, self.open_count, self.pending
        dropped, removed = self.dropped, self.removed
        for match in _TAG_OR_SKIPPED.finditer(html_text, position):
            is_end, name = match.group(1, 2)
            if name is None:
                continue  # a comment, doctype or processing instruction
            name = name.lower()
            flags = flags_of(name, 0)
            start, end = match.span()
            jump = None
            if is_end:
                if flags & _FORMATTING:
                    if self._end_formatting(name):
                        continue
                elif open_count.get(name):  # the usual end tag: its element is open
                    index = len(opened) - 1
                    while opened[index][0] != name:
                        index -= 1
                    self._close_from(index)
                    continue
                if not dropped.get(name):
                    continue  # a stray end tag: the parser ignores it, nothing nests
                dropped[name] -= 1  # the end of a start tag dropped before
            elif flags & _VOID:
                continue
            elif flags & _RAW_TEXT:
                found = _raw_text_end(name).search(html_text, end)
                return found.start() if found else None
            else:
                if flags & _ENDS_OWN_KIND:
                    self._end_formatting(name)
                elif flags & _CLOSES_P_FLAG and open_count.get("p"):
                    self._close_sibling(_P_RULE)
                rule = rules.get(name)
                if rule is not None:
                    if opened and opened[-1][0] == name and not flags & _SCOPE:
                        # "<li>" ends the "<li>" just opened and takes its place
                        opened[-1] = (name, match.group(0), len(pending), start)
                        continue
                    if opened and opened[-1][0] in rule[0]:  # "<dt>" right after "<dd>"
                        closed, _, pending_before, _ = opened.pop()
                        open_count[closed] -= 1
                        if flags_of(closed, 0) & _SCOPE:
                            del pending[pending_before:]
                    else:
                        self._close_sibling(rule)
                if len(opened) + len(pending) < self.max_depth:
                    tag = match.group(0)
                    if flags & _FORMATTING and len(pending) >= 3 and (name, tag) in pending:
                        self._forget_third_identical(name, tag)
                    opened.append((name, tag, len(pending), start))
                    open_count[name] = open_count.get(name, 0) + 1
                    continue
                if not flags & _DROPPED:
                    dropped[name] = dropped.get(name, 0) + 1
                else:  # removed with its content: its end tag goes with it
                    end = jump = _element_end(html_text, end, name)
            if removed and removed[-1][1] == start:
                start = removed.pop()[0]  # one span for a run of dropped tags
            removed.append((start, end))
            if jump is not None:
                return jump
        return None

    def _forget_third_identical(self, name: str, tag: str) -> None:
        """A browser re-opens at most three identical formatting elements ("Noah's Ark")."""
        identical = [i for i, entry in enumerate(self.pending) if entry == (name, tag)]
        if len(identical) >= 3:
            del self.pending[identical[0]]

    def _close_last(self, name: str) -> bool:
        """Close the last open element `name`; False when none is open."""
        if not self.open_count.get(name):
            return False
        opened = self.open
        index = len(opened) - 1
        while opened[index][0] != name:  # open_count says it is there
            index -= 1
        self._close_from(index)
        return True

    def _end_formatting(self, name: str) -> bool:
        """Close the last open or pending formatting element `name`; False when there is none."""
        if self._close_last(name):
            return True
        pending = self.pending
        for index in range(len(pending) - 1, -1, -1):
            if pending[index][0] == name:
                del pending[index]
                return True
        return False

    def _close_sibling(self, rule: tuple[tuple[str, ...], frozenset[str]]) -> None:
        names, boundaries = rule
        open_count = self.open_count
        for name in names:
            if open_count.get(name):
                break
        else:
            return
        opened = self.open
        for index in range(len(opened) - 1, -1, -1):
            open_name = opened[index][0]
            if open_name in names:
                self._close_from(index)
                return
            if open_name in boundaries:
                return

    def _close_from(self, index: int) -> None:
        """Close the open element at `index` and those inside it: formatting elements among
        them become pending, except inside a table cell (or another scope), which ends them."""
        if index == len(self.open) - 1:  # the usual case: only the element itself
            name, _, pending_before, _ = self.open.pop()
            self.open_count[name] -= 1
            if _ELEMENT_FLAGS.get(name, 0) & _SCOPE:
                del self.pending[pending_before:]
            return
        closed = self.open[index:]
        del self.open[index:]
        open_count, pending, flags_of = self.open_count, self.pending, _ELEMENT_FLAGS.get
        for entry in closed:
            open_count[entry[0]] -= 1
        first = closed[0][0]
        for name, tag, pending_before, start in closed:
            flags = flags_of(name, 0)
            if flags & _SCOPE:
                del pending[pending_before:]
                return
            if not flags & _FORMATTING or name == first:
                continue
            if len(pending) < MAX_PENDING:
                pending.append((name, tag))
            else:  # every later paragraph would repeat it: it goes, with its end tag
                self.removed.append((start, start + len(tag)))
                self.dropped[name] = self.dropped.get(name, 0) + 1


def _without_spans(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    kept: list[str] = []
    position = 0
    for start, end in sorted(spans):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return "".join(kept)


@functools.cache
def _raw_text_end(name: str) -> re.Pattern[str]:
    return re.compile(rf"</{name}[\s/>]", re.IGNORECASE)


@functools.cache
def _same_name_tag(name: str) -> re.Pattern[str]:
    return re.compile(rf"<(/?){name}[\s/>]", re.IGNORECASE)


def _element_end(html_text: str, position: int, name: str) -> int:
    """Where the element `name` opened just before `position` ends, its end tag included (the
    end of the text when it never does)."""
    depth = 1
    for found in _same_name_tag(name).finditer(html_text, position):
        depth += -1 if found.group(1) else 1
        if depth == 0:
            closing = html_text.find(">", found.end() - 1)
            return len(html_text) if closing < 0 else closing + 1
    return len(html_text)


# --- plain text and notes -------------------------------------------------------------------

# Element names of HTML, SVG and MathML that feeds (and attacks) use; "Vec<String>" is text.
_KNOWN_ELEMENTS = "|".join(
    sorted(
        {
            "a", "abbr", "address", "animate", "applet", "area", "article", "aside", "audio",
            "b", "base", "basefont", "bdi", "bdo", "bgsound", "big", "blink", "blockquote",
            "body", "br", "button", "canvas", "caption", "center", "circle", "cite", "code",
            "col", "colgroup", "data", "datalist", "dd", "del", "details", "dfn", "dialog",
            "dir", "div", "dl", "dt", "em", "embed", "fieldset", "figcaption", "figure", "font",
            "footer", "foreignobject", "form", "frame", "frameset", "g", "h1", "h2", "h3", "h4",
            "h5", "h6", "head", "header", "hr", "html", "i", "iframe", "image", "img", "input",
            "ins", "isindex", "kbd", "keygen", "label", "layer", "legend", "li", "link",
            "listing", "main", "maction", "map", "mark", "marquee", "math", "menu", "meta",
            "meter", "mi", "mn", "mo", "ms", "mtext", "nav", "nobr", "noembed", "noframes",
            "noscript", "object", "ol", "optgroup", "option", "output", "p", "param", "path",
            "picture", "plaintext", "pre", "progress", "q", "rect", "rp", "rt", "ruby", "s",
            "samp", "script", "section", "select", "set", "small", "source", "span", "strike",
            "strong", "style", "sub", "summary", "sup", "svg", "table", "tbody", "td",
            "template", "textarea", "tfoot", "th", "thead", "time", "title", "tr", "track", "tt",
            "u", "ul", "use", "var", "video", "wbr", "xmp",
        },
        key=lambda name: (-len(name), name),  # longest first, so "bdo" is not read as "b"
    )
)  # fmt: skip
_KNOWN_ELEMENT_NAMES = frozenset(_KNOWN_ELEMENTS.split("|"))
# A tag-like run, named by its whole run of letters and digits ("<b-x>" is "b", "<bx>" is "bx").
_TAG_LIKE = re.compile(r"<!--|</?([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>")


def _looks_like_html(raw: str) -> bool:
    """Whether `raw` holds markup: a known element, opening or closing, or a comment.

    One regex with every known name would try each name at every "<" ("<div <div ..." took
    0.1 s per 256 KiB); a tag-like run whose name is then looked up costs a set lookup."""
    for match in _TAG_LIKE.finditer(raw):
        name = match.group(1)
        if name is None or name.lower() in _KNOWN_ELEMENT_NAMES:
            return True
    return False


_BLOCK_TAG = re.compile(r"<(?:p|br|ul|ol|li|pre|blockquote|h[1-6]|div|table)\b", re.IGNORECASE)
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_URL_IN_TEXT = re.compile(r"\b(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
_TEXT_OR_TAG = re.compile(r"(<[^>]*>)")
_URL_TRAILING = ".,;:!?*'\""


def notes_to_html(raw: str, base_url: str | None) -> str:
    """Show notes as sanitized HTML, whether the feed wrote HTML or plain text.

    Plain text (no known tag) becomes <p> paragraphs split at blank lines, with <br> for single
    newlines and its http(s) URLs linked. HTML that has no block markup at all but does have
    line breaks is treated the same way, as its author meant the breaks to show.
    """
    if not raw.strip():
        return ""
    if _looks_like_html(raw):
        sanitized = sanitize_html(_flatten_tables(raw), base_url)
        shaped = sanitized
        if not _BLOCK_TAG.search(shaped) and "\n" in shaped.strip():
            shaped = _paragraphs(shaped.strip())
        shaped = _link_urls(shaped)
        # Sanitized output sanitizes to itself: a second pass only when something was added.
        html_out = sanitized if shaped == sanitized else sanitize_html(shaped, base_url)
        return _collapse_blank_lines(html_out).strip()
    escaped = html.escape(html.unescape(raw), quote=False)
    return sanitize_html(_link_urls(_paragraphs(escaped.strip())), base_url)


_CELL_END = re.compile(r"</t[dh]\s*>", re.IGNORECASE)
_ROW_END = re.compile(r"(</t[dh]\s*>)(\s*</tr\s*>)", re.IGNORECASE)
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+")
_PRE_BLOCK = re.compile(r"(<pre>.*?</pre>)", re.DOTALL)


def _flatten_tables(raw: str) -> str:
    """Tables are not in the allowlist; keep their cells apart ("Guest Ada", not "GuestAda")
    and their rows on lines of their own."""
    if "</t" not in raw and "</T" not in raw:
        return raw
    with_rows = _ROW_END.sub(r"<br>\1\2", raw)
    return _CELL_END.sub(lambda m: " " + m.group(0), with_rows)


def _collapse_blank_lines(sanitized_html: str) -> str:
    """Runs of blank lines (left where elements were removed) become one newline, except in
    <pre>; whitespace between blocks does not show, so the page looks the same."""
    parts = _PRE_BLOCK.split(sanitized_html)
    return "".join(
        part if index % 2 else _BLANK_LINES.sub("\n", part) for index, part in enumerate(parts)
    )


def _paragraphs(escaped_text: str) -> str:
    """Escaped text (or inline-only HTML) -> <p> per blank-line block, <br> per newline."""
    blocks = [block.strip() for block in _BLANK_LINE.split(escaped_text.replace("\r\n", "\n"))]
    return "".join(
        "<p>" + "<br>".join(line.strip() for line in block.split("\n")) + "</p>"
        for block in blocks
        if block
    )


def _link_urls(sanitized_html: str) -> str:
    """Wrap bare URLs in text nodes (outside links and code) with links."""
    if "://" not in sanitized_html and "www." not in sanitized_html:
        return sanitized_html
    text_only = _ANY_TAG.sub("", sanitized_html)
    if "://" not in text_only and "www." not in text_only:
        return sanitized_html  # the URLs are all in attributes
    parts = _TEXT_OR_TAG.split(sanitized_html)
    depth = 0  # inside <a>, <pre> or <code>
    for index, part in enumerate(parts):
        if index % 2:
            name = part[1:].lstrip("/").split(" ", 1)[0].rstrip(">").lower()
            if name in ("a", "pre", "code"):
                depth += -1 if part.startswith("</") else 1
        elif depth <= 0 and ("://" in part or "www." in part):
            parts[index] = _URL_IN_TEXT.sub(_link_for_match, part)
    return "".join(parts)


def _link_for_match(match: re.Match[str]) -> str:
    shown = match.group(0)
    for entity in ("&lt;", "&gt;", "&quot;"):
        shown = shown.split(entity, 1)[0]
    shown = shown.rstrip(_URL_TRAILING)
    if shown.endswith(")") and shown.count("(") < shown.count(")"):
        shown = shown[:-1]
    rest = match.group(0)[len(shown) :]
    target = html.unescape(shown)
    if target.lower().startswith("www."):
        target = "https://" + target
    href = clean_url(target)
    if href is None:
        return match.group(0)
    return f'<a href="{html.escape(href)}">{shown}</a>{rest}'


# --- HTML to text ---------------------------------------------------------------------------

_INVISIBLE_ELEMENTS = (
    "script", "style", "svg", "math", "template", "noscript", "textarea", "iframe", "object",
    "head", "title",
)  # fmt: skip
_INVISIBLE_START = re.compile(rf"<({'|'.join(_INVISIBLE_ELEMENTS)})\b|<!--", re.IGNORECASE)
_INVISIBLE_END = {
    name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in _INVISIBLE_ELEMENTS
} | {"": re.compile("-->")}


def _drop_invisible(html_text: str) -> str:
    """Remove comments and elements whose content is not text (script, style, svg...).

    An element left open swallows the rest, as in a browser. One pass from left to right, so
    the time stays linear even for thousands of unclosed "<script" in hostile input.
    """
    kept: list[str] = []
    position = 0
    while opening := _INVISIBLE_START.search(html_text, position):
        kept.append(html_text[position : opening.start()])
        closing = _INVISIBLE_END[(opening.group(1) or "").lower()].search(html_text, opening.end())
        if closing is None:
            return " ".join(kept)
        kept.append(" ")
        position = closing.end()
    kept.append(html_text[position:])
    return "".join(kept)


# The tags html_to_text turns into line breaks (blocks.py cuts notes into lines at them too).
LINE_BREAKING_TAG = re.compile(
    r"<(?:/?(?:p|div|li|ul|ol|h[1-6]|blockquote|pre|tr|table|section|article|header|footer"
    r"|dt|dd|dl|figure|figcaption|hr)|br)\b[^<>]*>",
    re.IGNORECASE,
)
# [^<>] rather than [^>]: an unclosed "<a" must not make every later "<" rescan the rest.
_ANY_TAG = re.compile(r"</?[a-zA-Z][^<>]*>|<![^<>]*>|<\?[^<>]*>")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def html_to_text(html_text: str) -> str:
    """Plain text of HTML: block elements become line breaks (one per line of text, no blank
    lines), entities decoded, each line's whitespace collapsed. Script and style content is not
    text and is dropped."""
    if "<" not in html_text and "&" not in html_text:
        return _tidy_lines(html_text)
    text = _drop_invisible(html_text)
    text = text.replace("\r", "").replace("\n", " ")
    text = LINE_BREAKING_TAG.sub("\n", text)
    text = _ANY_TAG.sub("", text)
    return _tidy_lines(html.unescape(text))


def _tidy_lines(text: str) -> str:
    lines = map(str.strip, _collapse_spaces(text.replace("\r", "")).split("\n"))
    return "\n".join([line for line in lines if line])


def _collapse_spaces(text: str) -> str:
    """Runs of _SPACES as one space. The regex replaces every single space too (slow on long
    notes), so text with nothing to collapse is checked with cheaper tests first."""
    if "  " in text:
        return _SPACES.sub(" ", text)
    if text.isascii():
        other_spaces = "\t" in text or "\f" in text or "\v" in text
    else:
        other_spaces = _SPACE_NOT_SPACE.search(text) is not None
    return _SPACES.sub(" ", text) if other_spaces else text


_SPACE_NOT_SPACE = re.compile(r"[\t\f\v\u00a0\u2000-\u200a\u202f\u205f\u3000]")  # _SPACES less " "


# --- summaries and long notes ---------------------------------------------------------------

ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s)")


def notes_summary(text: str, limit: int = 300) -> str:
    """The summary of plain-text notes (html_to_text output) for lists and search results.

    Chapter lines ("02:49 Introduction") and their heading are left out: they are shown as
    chapters. Long notes (a pasted transcript) are summarized from their lead only: the lines
    before the first one that reads like a transcript (a "Transcript" heading, a timestamp
    followed by a speaker, or a speaker label such as "Ada:" that starts at least three lines).
    When there is no lead, the summary is empty.
    """
    lines = text.splitlines()
    if is_long_notes(text):
        lines = _lead(lines, limit * 2)
    prose = [line for line in lines if not _CHAPTER_LINE.match(line)]
    return summarize(" ".join(prose or lines), limit)


def _lead(lines: list[str], enough: int) -> list[str]:
    """The lines before the transcript starts (at most about `enough` characters)."""
    labels = Counter(m.group(1) for line in lines if (m := _SPEAKER_LABEL.match(line)))
    lead: list[str] = []
    for line in lines:
        label = _SPEAKER_LABEL.match(line)
        if _TRANSCRIPT_START.match(line) or (label and labels[label.group(1)] >= 3):
            break
        lead.append(line)
        if sum(map(len, lead)) > enough:
            break
    return lead


# "02:49 Intro", "- (1:02:03) Wrap-up", and the headings of such lists
_CHAPTER_LINE = re.compile(
    r"\s*(?:[-*•·–—>]\s*)?[(\[{]?\d{1,3}:\d{2}"
    r"|\s*(?i:chapters|chapter markers|timestamps|time stamps)\s*:?\s*$"
)
# "Transcript", "Full transcript:", "[00:01] Ada Lovelace:", "00:01:02 Speaker 1 -"
_TRANSCRIPT_START = re.compile(
    r"\s*(?:(?i:(?:full |episode )?transcript)\b"
    r"|[\[(]?\d{1,2}:\d{2}(?::\d{2})?[\])]?\s+\S+(?: \S+){0,2}\s*[:\-–])"
)
_SPEAKER_LABEL = re.compile(r"\s*([A-Z][\w.'-]*(?: [A-Z][\w.'-]*){0,2}):\s")


def summarize(text: str, limit: int = 300) -> str:
    """One line of at most `limit` characters.

    When the text is longer, it is cut after the last sentence that ends in the final third of
    the allowance; failing that, at the last word boundary, followed by an ellipsis.
    """
    line = " ".join(text.split())  # str.split() and \s agree on what whitespace is
    if len(line) <= limit:
        return line
    if limit <= 1:
        return ELLIPSIS[:limit]
    window = line[: limit + 1]
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window) if m.end() <= limit]
    if sentence_ends and sentence_ends[-1] >= limit * 2 // 3:
        return line[: sentence_ends[-1]]
    return _cut_at_word(line, limit)


def _cut_at_word(line: str, limit: int) -> str:
    """`line` cut to at most `limit` characters, ellipsis included, at a word boundary."""
    room = limit - len(ELLIPSIS)
    head = line[: room + 1]
    space = head.rfind(" ")
    cut = head[:space] if space > room // 2 else line[:room]
    return cut.rstrip(" ,;:-–—([{") + ELLIPSIS


# --- plain-text fields ----------------------------------------------------------------------

_FIELD_TAG = re.compile(
    r"<[!?][^<>]*(?:>|$)"
    rf"|</?(?:{_KNOWN_ELEMENTS})\b[^<>]*(?:>|(?=<)|$)"  # a known element, even unterminated
    r"|</?[a-zA-Z][\w:.-]*(?:\s+[^<>\s=]+\s*=[^<>]*|\s*/)>"  # any element with attributes
    r"|</[a-zA-Z][\w:.-]*\s*>",  # any closing tag
    re.IGNORECASE | re.DOTALL,
)
_REMOVED_CHARS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]"
)


def clean_text(value: str, limit: int = 1000, *, markup: bool = True) -> str:
    """A plain-text field: entities decoded (twice-escaped ones too), tags stripped, control
    and direction-override characters removed, whitespace collapsed, at most `limit` characters
    (cut at a word boundary, with an ellipsis). Escaping is left to whoever writes it out.
    With `markup=False` the value is text as written: "<i>" and "&amp;" stay as they are."""
    text = _without_markup(value) if markup and ("<" in value or "&" in value) else value
    text = _REMOVED_CHARS.sub("", text)
    text = unicodedata.normalize("NFC", " ".join(text.split())).strip()
    if len(text) <= limit:
        return text
    return _cut_at_word(text, limit)


def _without_markup(value: str) -> str:
    """Entities decoded and tags stripped (text without "<" or "&" has neither)."""
    text = value
    for _ in range(4):  # "&amp;lt;b&amp;gt;" needs two rounds of decoding, then a strip
        previous = text
        text = _FIELD_TAG.sub(_tag_separator, _drop_invisible(html.unescape(text)))
        if text == previous:
            break
    return text


def _tag_separator(match: re.Match[str]) -> str:
    """Block tags separate words; inline tags ("H<b>e</b>llo") do not."""
    name = match.group(0)[1:].lstrip("/").split(" ", 1)[0].rstrip(">").lower()
    return " " if name in _FIELD_BLOCK_TAGS else ""


_FIELD_BLOCK_TAGS = frozenset(
    {"br", "p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th",
     "table", "hr", "blockquote", "pre", "section", "option", "title", "body", "head", "html"}
)  # fmt: skip
