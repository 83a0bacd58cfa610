"""Topic matching: which configured platforms an episode is about.

Pattern rules (docs/topics.md explains them with examples):

- A pattern matches whole words only: it may not touch a letter, digit or underscore on
  either side. "aws" does not match "laws" or "jaws".
- An all-lower-case pattern ignores case: "kubernetes" matches "Kubernetes" and "KUBERNETES".
- A pattern with an upper-case letter is case-sensitive, but also matches its ALL-CAPS form:
  "Render" matches "Render" and "RENDER", never "render". "AWS" matches "AWS" only. Its
  lower-case words also match capitalized, for Title Case titles: "Render farm" matches
  "Render Farm" (but "render farm" only through a lower-case pattern).
- A pattern with a dot is a domain-like name and ignores case ("Fly.io" matches "fly.io").
  The dot is literal, and a dotted name never matches without it: "fly" alone is not "Fly.io".
- Spaces in a pattern match any run of whitespace or hyphens ("Amazon Web Services").
- "re:" starts a regular expression, used as written (case-sensitive unless it says `(?i)`).
- "!" starts a negative pattern (same rules as above, "!re:" for a regular expression): a
  positive match that overlaps a negative match does not count. "!Render farm" keeps
  "the Render farm of a studio" out while "deploy to Render" still counts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .model import Topic

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
    if not body:
        raise TopicPatternError(f"empty topic pattern: {pattern!r}")
    words = re.split(r"[\s]+", body)
    literal = r"[\s\-]+".join(re.escape(word) for word in words)
    if "." in body or body == body.lower():
        return f"{_WORD_BEFORE}(?i:{literal}){_WORD_AFTER}"
    title_case = r"[\s\-]+".join(_word_or_capitalized(word) for word in words)
    upper = r"[\s\-]+".join(re.escape(word.upper()) for word in words)
    alternatives = title_case if upper == literal else f"{title_case}|{upper}"
    return f"{_WORD_BEFORE}(?:{alternatives}){_WORD_AFTER}"


def _word_or_capitalized(word: str) -> str:
    """A lower-case word inside a capitalized pattern also matches Title Case: "Railway
    station" matches "Railway Station", since titles capitalize every word."""
    if word != word.lower() or not word[:1].isalpha():
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
        re.compile(pattern_regex(pattern))
    except (re.error, TopicPatternError) as error:
        return f"invalid topic pattern {pattern!r}: {error}"
    return None


@dataclass(frozen=True, slots=True)
class _CompiledTopic:
    slug: str
    positive: re.Pattern[str] | None
    negative: re.Pattern[str] | None


class TopicMatcher:
    """Built once from the configured topics; `match` names the topics a text is about."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self._topics = tuple(_compile_topic(topic) for topic in topics)

    def match(self, *texts: str) -> tuple[str, ...]:
        """Slugs of the topics any of `texts` mentions, in the order the topics are configured."""
        return tuple(
            topic.slug
            for topic in self._topics
            if any(_mentions(topic, text) for text in texts if text)
        )


def _compile_topic(topic: Topic) -> _CompiledTopic:
    positive = [p for p in topic.patterns if not p.startswith(NEGATIVE_PREFIX)]
    negative = [p for p in topic.patterns if p.startswith(NEGATIVE_PREFIX)]
    return _CompiledTopic(topic.slug, _combined(topic, positive), _combined(topic, negative))


def _combined(topic: Topic, patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    try:
        return re.compile("|".join(f"(?:{pattern_regex(p)})" for p in patterns))
    except re.error as error:
        raise TopicPatternError(f"topic {topic.slug!r}: invalid pattern: {error}") from error


def _mentions(topic: _CompiledTopic, text: str) -> bool:
    if topic.positive is None:
        return False
    hits = [m.span() for m in topic.positive.finditer(text) if m.end() > m.start()]
    if not hits or topic.negative is None:
        return bool(hits)
    vetoes = [m.span() for m in topic.negative.finditer(text)]
    return any(
        not any(start < veto_end and veto_start < end for veto_start, veto_end in vetoes)
        for start, end in hits
    )
