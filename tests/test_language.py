"""Language tags, detection, and the function-word shortcut that spares the detector.

The shortcut (plainly_in) must never contradict the detector: whenever it says a text is plainly
in a language, the detector is either unsure or names that same language.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.ingest.language import (
    _FUNCTION_WORDS,
    detect_language,
    detect_other_language,
    normalize_language,
    plainly_in,
    primary,
)
from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.model import FeedSource

CORPUS_FEEDS = CORPUS / "feeds"

ENGLISH = (
    "This week we sit down with the team that moved their billing service off a single large "
    "database. We talk about what they measured before the move, which parts of the plan had "
    "to change on the way, and why they would start with the read replicas if they did it all "
    "again. There is also a short story about the night the queue filled up."
)
GERMAN = (
    "In dieser Folge sprechen wir mit dem Team, das seinen Abrechnungsdienst von einer großen "
    "Datenbank gelöst hat. Wir reden darüber, was sie vor dem Umzug gemessen haben, welche "
    "Teile des Plans sich unterwegs geändert haben und warum sie heute mit den Lesekopien "
    "anfangen würden. Dazu gibt es eine kurze Geschichte über die Nacht, in der die Warteschlange "
    "überlief."
)
FRENCH = (
    "Cette semaine, nous parlons avec une équipe qui a déplacé son service de facturation hors "
    "d'une grande base de données. Nous revenons sur ce qu'ils ont mesuré avant le départ, sur "
    "les parties du plan qui ont changé en route et sur la nuit où la file d'attente a débordé."
)
RUSSIAN = (
    "На этой неделе мы говорим с командой, которая перенесла сервис расчётов с одной большой "
    "базы данных. Мы обсуждаем, что они измерили до переезда и почему начали бы с реплик."
)


def test_normalize_language_tags() -> None:
    assert normalize_language("en-us") == "en-US"
    assert normalize_language("DE") == "de"
    assert normalize_language("English") == "en"
    assert normalize_language("not a tag!") is None
    assert primary("pt-BR") == "pt"
    assert primary(None) is None


def test_plain_prose_is_plainly_in_its_language() -> None:
    assert plainly_in(ENGLISH, "en")
    assert plainly_in(GERMAN, "de")
    assert plainly_in(FRENCH, "fr")


def test_prose_in_another_language_is_not_plainly_in_the_expected_one() -> None:
    assert not plainly_in(GERMAN, "en")
    assert not plainly_in(FRENCH, "en")
    assert not plainly_in(ENGLISH, "de")
    assert not plainly_in(RUSSIAN, "en")


def test_half_and_half_is_left_to_the_detector() -> None:
    mixed = ENGLISH[:150] + " " + GERMAN[:150]
    assert not plainly_in(mixed, "en")
    assert not plainly_in(mixed, "de")


def test_short_texts_and_unlisted_languages_are_never_plain() -> None:
    assert not plainly_in("We talk about the move.", "en")
    assert not plainly_in(RUSSIAN, "ru")  # no word list: the detector decides


def test_detect_other_language_names_only_a_different_language() -> None:
    assert detect_other_language(ENGLISH, "en") is None
    assert detect_other_language(GERMAN, "en") == "de"
    assert detect_other_language(ENGLISH, "de") == "en"
    assert detect_other_language(GERMAN, None) == "de"
    assert detect_other_language("Too short to tell.", None) is None


@pytest.mark.parametrize("text", [ENGLISH, GERMAN, FRENCH, RUSSIAN])
@pytest.mark.parametrize("expected", [None, "en", "de", "fr", "ru"])
def test_detect_other_language_agrees_with_detect_language(text: str, expected: str | None) -> None:
    detected = detect_language(text)
    assert detect_other_language(text, expected) == (detected if detected != expected else None)


_VOCABULARY = sorted({word for words in _FUNCTION_WORDS.values() for word in words.split()})
_CONTENT_WORDS = (ENGLISH + " " + GERMAN + " " + FRENCH).replace(".", "").replace(",", "").split()


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(_VOCABULARY + _CONTENT_WORDS), min_size=10, max_size=90),
    st.sampled_from(sorted(_FUNCTION_WORDS)),
)
def test_the_shortcut_never_contradicts_the_detector(words: list[str], language: str) -> None:
    text = " ".join(words)
    if plainly_in(text, language):
        assert detect_language(text) in (language, None)


@pytest.mark.corpus
@pytest.mark.parametrize(
    "name",
    [
        "engineeringkiosk_2026-07-01_redcircle.xml",  # German notes full of English terms
        "jb_coder-radio_2025-06.xml",
        "rssparser_jn-pt_iso-8859-1_news.xml",
        "partytime_dw-langsam-gesprochene-nachrichten.xml",
    ],
)
def test_the_shortcut_never_contradicts_the_detector_on_real_notes(name: str) -> None:
    source = FeedSource(url=f"https://feeds.example.com/{name}", slug="real")
    parsed = parse_feed((CORPUS_FEEDS / name).read_bytes(), {}, source.url)
    now = datetime(2026, 7, 2, tzinfo=UTC)
    episodes = normalize_feed(source, parsed, (), now, source.url).episodes
    plain = 0
    for episode in episodes[:150]:
        text = episode.title + "\n" + episode.text
        for language in _FUNCTION_WORDS:
            if plainly_in(" ".join(text[:600].split()), language):
                plain += 1
                assert detect_language(text) in (language, None), (language, text[:200])
    assert plain > 0
