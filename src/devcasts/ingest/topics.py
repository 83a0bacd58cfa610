"""Topic matching: which configured platforms an episode is about.

Pattern rules (docs/topics.md explains them with examples):

- A pattern matches whole words only: it may not touch a letter, digit or underscore on
  either side. "aws" does not match "laws" or "jaws".
- An all-lower-case pattern ignores case: "kubernetes" matches "Kubernetes" and "KUBERNETES".
- A pattern with an upper-case letter is case-sensitive, but also matches its ALL-CAPS form:
  "Render" matches "Render" and "RENDER", never "render". "AWS" matches "AWS" only. Its
  lower-case words also match capitalized, for Title Case titles: "Render farm" matches
  "Render Farm" (but "render farm" only through a lower-case pattern).
- A pattern that is one dotted name is domain-like and ignores case ("Fly.io" matches
  "fly.io"). The dot is literal, and a dotted name never matches without it: "fly" alone is
  not "Fly.io".
- Spaces in a pattern match any run of whitespace or hyphens ("Amazon Web Services").
- Braces give alternatives: "{on|to|via} Render" is "on Render", "to Render" or "via Render";
  an alternative may be empty ("Blueprint{s|}").
- "re:" starts a regular expression, used as written (case-sensitive unless it says `(?i)`).
  It runs on RE2, whose time grows linearly with the text whatever the pattern ("(a+)+$"
  cannot hang a build), so it has no backreferences or look-around.
- "!" starts a negative pattern (same rules as above, "!re:" for a regular expression): a
  positive match that overlaps a negative match does not count. "!Render farm" keeps
  "the Render farm of a studio" out while "deploy to Render" still counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import re2

from devcasts.model import Topic

REGEX_PREFIX = "re:"
NEGATIVE_PREFIX = "!"
_WORD_BEFORE = r"(?<![\w])"
_WORD_AFTER = r"(?![\w])"


class TopicPatternError(ValueError):
    """A topic pattern cannot be compiled; the message names the pattern."""


def pattern_regex(pattern: str) -> str:
    """The regular expression (source) one pattern stands for, negation prefix removed."""
    body = pattern.removeprefix(NEGATIVE_PREFIX).strip()
    if body.startswith(REGEX_PREFIX):
        return _scoped_flags(body.removeprefix(REGEX_PREFIX))
    return _literal_regex(body, _ignores_case(body))


def _ignores_case(body: str) -> bool:
    """All lower case, or one dotted name ("Fly.io"): any case matches."""
    return body == body.lower() or _DOTTED_NAME.fullmatch(body) is not None


def _literal_regex(body: str, ignore_case: bool) -> str:
    """A plain pattern as a regular expression with its word boundaries."""
    if not body:
        raise TopicPatternError("empty topic pattern")
    if "{" in _BRACES.sub("", body) or "}" in _BRACES.sub("", body):
        raise TopicPatternError(f"unbalanced braces in {body!r}")
    if ignore_case:
        return f"{_WORD_BEFORE}(?i:{_words_regex(body, _lower_word)}){_WORD_AFTER}"
    title_case = _words_regex(body, _word_or_capitalized)
    upper = _words_regex(body, _upper_word)
    alternatives = title_case if upper == title_case else f"{title_case}|{upper}"
    return f"{_WORD_BEFORE}(?:{alternatives}){_WORD_AFTER}"


_SEPARATOR = r"[\s\-]+"
_BRACES = re.compile(r"\{([^{}]*)\}")
_TOKEN = re.compile(r"(?:\{[^{}]*\}|[^\s{}]+)+")
_DOTTED_NAME = re.compile(r"\w[\w-]*(?:\.\w[\w-]*)+")


def _words_regex(text: str, word_regex: Callable[[str, bool], str]) -> str:
    """Words (and {a|b} alternatives) joined by the separator; each piece through word_regex,
    told whether the piece starts a word."""
    tokens = []
    for token in _TOKEN.findall(text):
        pieces = []
        position = 0
        for group in _BRACES.finditer(token):
            if group.start() > position:
                pieces.append(word_regex(token[position : group.start()], position == 0))
            options = [
                _words_regex(option, word_regex if group.start() == 0 else _inside(word_regex))
                for option in group.group(1).split("|")
            ]
            pieces.append(f"(?:{'|'.join(options)})")
            position = group.end()
        if position < len(token):
            pieces.append(word_regex(token[position:], position == 0))
        tokens.append("".join(pieces))
    return _SEPARATOR.join(tokens)


def _inside(word_regex: Callable[[str, bool], str]) -> Callable[[str, bool], str]:
    """word_regex for the alternatives of a group that continues a word ("Blueprint{s|}")."""
    return lambda word, _starts_word: word_regex(word, False)


def _lower_word(word: str, _starts_word: bool) -> str:
    return re.escape(word.lower())


def _upper_word(word: str, _starts_word: bool) -> str:
    return re.escape(word.upper())


def _word_or_capitalized(word: str, starts_word: bool) -> str:
    """A lower-case word inside a capitalized pattern also matches Title Case: "Railway
    station" matches "Railway Station", since titles capitalize every word."""
    if not starts_word or word != word.lower() or not word[:1].isalpha():
        return re.escape(word)
    first = word[0]
    return f"[{first}{first.upper()}]{re.escape(word[1:])}"


def _scoped_flags(regex: str) -> str:
    """ "(?i)rest" -> "(?i:rest)": patterns are joined into one regex, where global flags fail."""
    match = _LEADING_FLAGS.match(regex)
    return f"(?{match.group(1)}:{regex[match.end() :]})" if match else regex


_LEADING_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")


def validate_pattern(pattern: str) -> str | None:
    """An error message when the pattern is unusable, else None (for config validation)."""
    try:
        _compile(pattern)
    except TopicPatternError as error:
        return f"invalid topic pattern {pattern!r}: {error}"
    return None


class _Match(Protocol):
    def span(self) -> tuple[int, int]: ...
    def start(self) -> int: ...
    def end(self) -> int: ...


class _Regex(Protocol):
    """What the matcher uses of a compiled pattern, from `re` or from `re2`."""

    def finditer(self, text: str) -> Iterator[_Match]: ...
    def match(self, text: str, pos: int = ...) -> _Match | None: ...


def _compile(pattern: str) -> _Regex:
    """A pattern compiled: a regular expression with RE2 (linear time: a user's "(a+)+$"
    cannot hang a build), a plain pattern with `re` (its word boundaries need look-around; its
    regex is built here from literal words, and cannot backtrack badly)."""
    regex = pattern_regex(pattern)
    if not _is_regex(pattern):
        return re.compile(regex)
    try:
        compiled: _Regex = re2.compile(regex, _RE2_OPTIONS)
    except re2.error as error:
        message = error.args[0] if error.args else error
        text = message.decode() if isinstance(message, bytes) else str(message)
        raise TopicPatternError(f"{text} (RE2 has no backreferences or look-around)") from error
    return compiled


def _is_regex(pattern: str) -> bool:
    return pattern.removeprefix(NEGATIVE_PREFIX).strip().startswith(REGEX_PREFIX)


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is reported by `check`, not on stderr


@dataclass(frozen=True, slots=True)
class _Positive:
    regex: _Regex  # what the pattern means
    hint: str  # lower-case text every match contains ("" when unknown): a cheap pre-check
    # For plain patterns: the pattern in lower case without the leading look-behind, run over
    # the lower-cased text to find where `regex` may match. It is much faster, because the
    # regex engine can skip ahead to the first letter; `regex` then confirms each place.
    candidates: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class _CompiledTopic:
    slug: str
    positives: tuple[_Positive, ...]
    negatives: tuple[_Regex, ...]


class TopicMatcher:
    """Built once from the configured topics; `match` names the topics a text is about.

    Most texts mention no topic at all, so matching starts by looking for the words the
    patterns need ("heroku", "render", ...) in the lower-cased text; a pattern's regular
    expression runs only when its word is there.
    """

    def __init__(self, topics: Sequence[Topic]) -> None:
        self._topics = tuple(_compile_topic(topic) for topic in topics)
        hints = {p.hint for topic in self._topics for p in topic.positives}
        self._hints = tuple(sorted(hints - {""}))
        self._reads_every_text = "" in hints

    def match(self, *texts: str) -> tuple[str, ...]:
        """Slugs of the topics any of `texts` mentions, in the order the topics are configured."""
        readings = [reading for text in texts if text and (reading := self._read(text))]
        return tuple(
            topic.slug
            for topic in self._topics
            if any(_mentions(topic, reading) for reading in readings)
        )

    def _read(self, text: str) -> _Reading | None:
        lowered = text.lower()
        present = frozenset(hint for hint in self._hints if hint in lowered) | {""}
        if len(present) == 1 and not self._reads_every_text:
            return None
        return _Reading(text, lowered, present)


@dataclass(frozen=True, slots=True)
class _Reading:
    text: str
    lowered: str
    hints: frozenset[str]  # the pre-check words the text contains, and ""


def _compile_topic(topic: Topic) -> _CompiledTopic:
    positive = [p for p in topic.patterns if not p.startswith(NEGATIVE_PREFIX)]
    negative = [p for p in topic.patterns if p.startswith(NEGATIVE_PREFIX)]
    try:
        positives = tuple(compiled for p in positive for compiled in _compile_positive(p))
        return _CompiledTopic(topic.slug, positives, tuple(_compile(p) for p in negative))
    except (re.error, TopicPatternError) as error:
        raise TopicPatternError(f"topic {topic.slug!r}: invalid pattern: {error}") from error


def _compile_positive(pattern: str) -> list[_Positive]:
    body = pattern.strip()
    if body.startswith(REGEX_PREFIX):
        return [_Positive(_compile(body), _hint(body))]
    ignore_case = _ignores_case(body)
    return [
        _Positive(
            re.compile(_literal_regex(variant, ignore_case)),
            _hint(variant),
            re.compile(f"(?:{_words_regex(variant, _lower_word)}){_WORD_AFTER}"),
        )
        for variant in _without_leading_group(body)
    ]


_MAX_VARIANTS = 64


def _without_leading_group(body: str) -> list[str]:
    """ "{on|to} Render" -> ["on Render", "to Render"]: the same matches, but each variant
    starts with a letter the regex engine can skip ahead to, and has its own hint."""
    variants = [body]
    while any(v.startswith("{") for v in variants) and len(variants) < _MAX_VARIANTS:
        expanded: list[str] = []
        for variant in variants:
            group = _BRACES.match(variant)
            if group is None:
                expanded.append(variant)
                continue
            rest = variant[group.end() :]
            expanded += [(option + rest).strip() for option in group.group(1).split("|")]
        variants = [v for v in expanded if v]
    return variants


def _mentions(topic: _CompiledTopic, reading: _Reading) -> bool:
    hits = [
        span
        for positive in topic.positives
        if positive.hint in reading.hints
        for span in _spans(positive, reading)
    ]
    if not hits or not topic.negatives:
        return bool(hits)
    vetoes = [m.span() for negative in topic.negatives for m in negative.finditer(reading.text)]
    return any(
        not any(start < veto_end and veto_start < end for veto_start, veto_end in vetoes)
        for start, end in hits
    )


def _spans(positive: _Positive, reading: _Reading) -> list[tuple[int, int]]:
    """Where the pattern matches (non-empty matches only)."""
    text, lowered = reading.text, reading.lowered
    if positive.candidates is None or len(lowered) != len(text):
        return [m.span() for m in positive.regex.finditer(text) if m.end() > m.start()]
    spans: list[tuple[int, int]] = []
    position = 0
    while candidate := positive.candidates.search(lowered, position):
        start = candidate.start()
        confirmed = None
        if start == 0 or not _is_word_character(lowered[start - 1]):
            confirmed = positive.regex.match(text, start)
        if confirmed is not None and confirmed.end() > start:
            spans.append(confirmed.span())
            position = confirmed.end()
        else:
            position = start + 1
    return spans


def _is_word_character(char: str) -> bool:
    return char.isalnum() or char == "_"  # what \w means in a str pattern


# --- pre-check words ------------------------------------------------------------------------

_MIN_HINT = 3
_QUANTIFIERS = "?*+{"
_BREAKS_RUN = ".^$"


def _hint(pattern: str) -> str:
    """Lower-case text that every match of `pattern` contains, or "" when none is known."""
    body = pattern.strip()
    if body.startswith(REGEX_PREFIX):
        return _required_literal(body.removeprefix(REGEX_PREFIX))
    pieces = re.split(r"\{[^{}]*\}|\s+", body)  # text outside {a|b} is in every match
    longest = max(pieces, key=len, default="")
    return longest.lower() if len(longest) >= _MIN_HINT else ""


def _required_literal(regex: str) -> str:
    """The longest literal run at the top level of a regular expression (outside groups and
    classes, not quantified), lower-cased; "" when the expression has a top-level "|", uses
    verbose mode, or has no run of at least three characters."""
    if re.match(r"\(\?[aiLmsu]*x", regex):
        return ""
    runs: list[str] = []
    run: list[str] = []
    depth = 0
    index = 0
    while index < len(regex):
        char = regex[index]
        if char == "\\" and index + 1 < len(regex):
            escaped = regex[index + 1]
            if depth == 0 and not escaped.isalnum():
                run.append(escaped)
            elif depth == 0:
                runs.append("".join(run))
                run = []
            index += 2
            continue
        if char == "[":
            index = _class_end(regex, index)
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif depth == 0 and char == "|":
            return ""
        if depth == 0 and char in _QUANTIFIERS and run:
            run.pop()
        if char in "[()|" or char in _QUANTIFIERS or char in _BREAKS_RUN or depth > 0:
            runs.append("".join(run))
            run = []
        elif depth == 0:
            run.append(char)
        index += 1
    runs.append("".join(run))
    longest = max(runs, key=len)
    return longest.lower() if len(longest) >= _MIN_HINT else ""


def _class_end(regex: str, start: int) -> int:
    """Index of the "]" that closes the character class opened at `start`."""
    index = start + 1
    if index < len(regex) and regex[index] == "^":
        index += 1
    if index < len(regex) and regex[index] == "]":
        index += 1  # a "]" first in the class is literal
    while index < len(regex) and regex[index] != "]":
        index += 2 if regex[index] == "\\" else 1
    return index
