"""Topic patterns: word boundaries, case rules, negatives, and the labeled sentence set."""

from __future__ import annotations

import functools
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from devcasts.config.load import load_config
from devcasts.errors import ConfigError
from devcasts.ingest.topics import TopicMatcher, TopicPatternError, pattern_regex, validate_pattern
from devcasts.model import Topic

ROOT = Path(__file__).resolve().parents[1]
LABELED = ROOT / "tests" / "data" / "topics_labeled.yaml"
DOCS = ROOT / "docs" / "topics.md"
MIN_SCORE = 0.95


@functools.cache
def load_labeled() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(LABELED.read_text("utf-8"))
    return data


def topics_from(entries: list[dict[str, Any]]) -> tuple[Topic, ...]:
    return tuple(Topic(e["slug"], e["name"], tuple(e["patterns"])) for e in entries)


def matcher_for(*patterns: str) -> TopicMatcher:
    return TopicMatcher([Topic("t", "T", patterns)])


def matches(matcher: TopicMatcher, text: str) -> bool:
    return matcher.match(text) == ("t",)


# --- pattern rules --------------------------------------------------------------------------


def test_lower_case_patterns_ignore_case_on_word_boundaries() -> None:
    heroku = matcher_for("heroku")
    assert matches(heroku, "Leaving heroku")
    assert matches(heroku, "HEROKU news")
    assert matches(heroku, "Heroku's buildpacks")
    assert matches(heroku, "(Heroku)")
    assert not matches(heroku, "superheroku")
    assert not matches(heroku, "heroku_app")
    assert not matches(matcher_for("aws"), "new laws and jaws")


def test_capitalized_patterns_are_case_sensitive_plus_all_caps() -> None:
    render = matcher_for("Render")
    assert matches(render, "Deploy to Render")
    assert matches(render, "DEPLOY TO RENDER")
    assert not matches(render, "render a frame")
    assert not matches(render, "server-side rendering")
    railway = matcher_for("Railway")
    assert not matches(railway, "a railway station")
    assert not matches(railway, "RaIlWaY")


def test_dotted_patterns_ignore_case_and_need_the_dot() -> None:
    fly = matcher_for("Fly.io")
    assert matches(fly, "hosted on fly.io.")
    assert matches(fly, "https://fly.io/docs")
    assert matches(fly, "FLY.IO")
    assert not matches(fly, "fly to Berlin")
    assert not matches(fly, "flyXio")
    assert not matches(fly, "superfly.io")
    assert not matches(fly, "fly.iox")


def test_spaces_in_patterns_match_whitespace_and_hyphens() -> None:
    aws = matcher_for("Amazon Web Services")
    assert matches(aws, "Amazon  Web\nServices")
    assert matches(aws, "Amazon Web-Services")
    assert not matches(aws, "Amazon rainforest")


def test_regex_patterns_are_used_as_written() -> None:
    render = matcher_for(r"re:\bon Render\b")
    assert matches(render, "apps on Render")
    assert not matches(render, "apps on render")
    assert matches(matcher_for(r"re:(?i)\bon render\b", "heroku"), "apps ON RENDER")
    assert not matches(matcher_for(r"re:(?i)\bon render\b", "Heroku"), "heroku")


def test_negative_patterns_veto_overlapping_matches_only() -> None:
    railway = matcher_for("Railway", "!Railway station")
    assert not matches(railway, "Railway station stories")
    assert matches(railway, "Railway station stories, then a deploy to Railway")
    assert matches(railway, "Deploy to Railway")
    assert not matches(matcher_for("Render", "!re:Render\\s+(?:a|the)\\b"), "Render a frame")


def test_lower_case_words_of_a_capitalized_pattern_match_title_case() -> None:
    railway = matcher_for("Railway", "!Railway station")
    assert not matches(railway, "Railway Station Stories")
    assert not matches(railway, "RAILWAY STATION STORIES")
    assert matches(railway, "Railway Stationery")  # the veto is a whole phrase too
    assert not matches(matcher_for("Render farm"), "render farm")


def test_braces_give_alternatives() -> None:
    render = matcher_for("{on|to|vs.} Render")
    assert matches(render, "hosted on Render")
    assert matches(render, "Moving To Render")
    assert matches(render, "Heroku vs. Render")
    assert not matches(render, "how to render")
    assert not matches(render, "Render")
    plural = matcher_for("Render Blueprint{s|}")
    assert matches(plural, "Render Blueprints")
    assert matches(plural, "Render Blueprint")
    assert not matches(plural, "Render BlueprintS")
    assert matches(matcher_for("{EC2|DynamoDB}"), "on EC2")
    assert not matches(matcher_for("{EC2|DynamoDB}"), "dynamodb")  # capitalized: case counts


def test_unbalanced_braces_are_reported() -> None:
    assert validate_pattern("{on|to Render") is not None
    assert validate_pattern("on} Render") is not None


def test_only_negative_patterns_never_match() -> None:
    assert not matches(matcher_for("!heroku"), "heroku")


def test_match_keeps_configured_order_and_reads_every_text() -> None:
    matcher = TopicMatcher(
        [Topic("b", "B", ("beta",)), Topic("a", "A", ("alpha",)), Topic("c", "C", ("gamma",))]
    )
    assert matcher.match("alpha then beta") == ("b", "a")
    assert matcher.match("nothing", "gamma here", "and alpha") == ("a", "c")
    assert matcher.match() == ()
    assert matcher.match("") == ()


def test_invalid_patterns_are_reported() -> None:
    assert validate_pattern("heroku") is None
    assert validate_pattern("re:(unclosed") is not None
    assert validate_pattern("!") is not None
    with pytest.raises(TopicPatternError, match="broken"):
        TopicMatcher([Topic("broken", "B", ("re:[",))])


def test_pattern_regex_escapes_literal_text() -> None:
    assert re.search(pattern_regex("C++"), "We love C++ here")
    assert not re.search(pattern_regex("a.b"), "axb")


@given(st.text(max_size=200), st.text(max_size=50))
def test_match_never_fails_and_names_only_configured_topics(title: str, text: str) -> None:
    matcher = TopicMatcher(topics_from(load_labeled()["topics"]))
    slugs = matcher.match(title, text)
    configured = [t["slug"] for t in load_labeled()["topics"]]
    assert list(slugs) == [slug for slug in configured if slug in slugs]


PATTERNS_TO_COMPARE = [
    "heroku", "Render", "Fly.io", "Railway station", "{on|to|vs.} Render", "Render{'s|} {free tier|Postgres}",
    "aws {s3|cli}", "AWS", "{EC2|Route 53}", "Amazon Web Services", "k8s",
]  # fmt: skip
TEXT_PIECES = [
    "Render", "render", "RENDER", "on", "On", "ON", "to", "vs.", " ", "  ", "-", "\n", "x", "_",
    "Railway", "station", "Station", "Fly.io", "fly", ".", "io", "'s", "free tier", "Postgres",
    "heroku", "HEROKU", "aws", "AWS", "s3", "cli", "EC2", "Route", "53", "Amazon", "Web",
    "Services", "k8s", "\u0130", "\u00df", "é",
]  # fmt: skip


@given(st.lists(st.sampled_from(TEXT_PIECES), max_size=12).map("".join))
def test_fast_matching_agrees_with_the_pattern_regex(text: str) -> None:
    for pattern in PATTERNS_TO_COMPARE:
        expected = re.search(pattern_regex(pattern), text) is not None
        assert matches(matcher_for(pattern), text) == expected, pattern


# --- the labeled set ------------------------------------------------------------------------


def test_labeled_set_is_large_and_covers_every_topic() -> None:
    data = load_labeled()
    examples = data["examples"]
    assert len(examples) >= 120
    slugs = {t["slug"] for t in data["topics"]}
    assert slugs == {
        "heroku", "flyio", "render", "railway", "vercel", "netlify", "kubernetes", "dokku", "aws"
    }  # fmt: skip
    for slug in slugs:
        assert sum(slug in e["topics"] for e in examples) >= 5, slug
    assert sum(not e["topics"] for e in examples) >= 60  # hard negatives
    assert all(set(e["topics"]) <= slugs for e in examples)


def test_precision_and_recall_on_the_labeled_set() -> None:
    data = load_labeled()
    matcher = TopicMatcher(topics_from(data["topics"]))
    true_positives = false_positives = false_negatives = 0
    mistakes = []
    for example in data["examples"]:
        expected = set(example["topics"])
        found = set(matcher.match(example["text"]))
        true_positives += len(found & expected)
        false_positives += len(found - expected)
        false_negatives += len(expected - found)
        if found != expected:
            mistakes.append((example["text"], sorted(found), sorted(expected)))
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + false_negatives)
    assert precision >= MIN_SCORE, mistakes
    assert recall >= MIN_SCORE, mistakes


def test_docs_recommend_the_tested_patterns() -> None:
    block = re.search(r"```yaml\n(.*?)```", DOCS.read_text("utf-8"), re.DOTALL)
    assert block is not None
    documented = yaml.safe_load(block.group(1))["topics"]
    assert documented == load_labeled()["topics"]


def test_a_catastrophic_regex_finishes_fast() -> None:
    """ "(a+)+$" backtracks for ages in Python's re on many a's and a "!"; RE2 is linear."""
    assert validate_pattern("re:(a+)+$") is None
    matcher = TopicMatcher(
        [Topic("hang", "H", ("re:(a+)+$",)), Topic("veto", "V", ("re:a", "!re:(a|aa)+$"))]
    )
    note = "a" * 5000 + "!"
    started = time.process_time()
    for _ in range(20):
        assert matcher.match(note, note * 10) == ("veto",)
    assert time.process_time() - started < 2.0  # Python's re: more than a lifetime


@pytest.mark.parametrize(
    "pattern", [r"re:(a)\1", r"re:(?<=on )Render", r"!re:Render(?! farm)", r"re:(?x) Render"]
)
def test_what_re2_cannot_run_is_reported(pattern: str) -> None:
    problem = validate_pattern(pattern)
    assert problem is not None
    assert "RE2" in problem


def test_check_names_file_line_and_key_of_an_unsupported_regex(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "site:\n  title: t\n  base_url: https://example.org/\n"
        "topics:\n  - slug: render\n    name: Render\n    patterns:\n"
        '      - "Render"\n      - "re:(on|to)\\\\s+\\\\1"\n'
        "feeds:\n  - url: https://example.org/feed.xml\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:9: topics[0].patterns: invalid topic pattern")
