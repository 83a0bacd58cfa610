"""static/stem.js, run by Node, gives whoosh's Porter stem for every word we can find.

The browser turns a query word into an index term with stem.js; the build stems with
whoosh.lang.porter. One word stemmed differently is one word the browser never finds.
Each list runs in one Node process. The word counts print with `pytest -s`.
"""

from __future__ import annotations

import html
import json
import random
import re
import shutil
import string
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT
from whoosh.lang.porter import stem as porter_stem

from devcasts.search.schema import _TOKEN
from devcasts.site.templates import THEME_DIR

STEM_JS = THEME_DIR / "static" / "stem.js"
RUNNER = """\
import { readFileSync } from "node:fs";
import { stem } from %s;
const words = JSON.parse(readFileSync(process.argv[2], "utf8"));
process.stdout.write(JSON.stringify(words.map(stem)));
"""

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def js_stems(words: list[str], folder: Path) -> list[str]:
    runner = folder / "stem_runner.mjs"
    runner.write_text(RUNNER % json.dumps(STEM_JS.as_uri()), encoding="utf-8")
    word_file = folder / "words.json"
    word_file.write_text(json.dumps(words), encoding="utf-8")
    done = subprocess.run(
        ["node", str(runner), str(word_file)], capture_output=True, check=True, timeout=120
    )
    stems: list[str] = json.loads(done.stdout.decode("utf-8"))
    return stems


def whoosh_stem(word: str) -> str:
    return str(porter_stem(word))  # type: ignore[no-untyped-call]


def differences(words: Iterable[str], folder: Path) -> list[tuple[str, str, str]]:
    """(word, stem.js's stem, whoosh's stem) for each word the two stem differently."""
    ordered = sorted(set(words))
    stems = zip(ordered, js_stems(ordered, folder), strict=True)
    return [(word, js, whoosh_stem(word)) for word, js in stems if js != whoosh_stem(word)]


def words_of(text: str) -> set[str]:
    """The words the index stems, as schema.py tokenizes and lower-cases them."""
    return {word.lower() for word in _TOKEN.findall(text)}


def check(name: str, words: set[str], folder: Path) -> None:
    wrong = differences(words, folder)
    print(f"\nstem.js: {len(words)} {name} words compared, {len(wrong)} differences")
    assert wrong == []


def test_whooshs_own_rules_are_kept(tmp_path: Path) -> None:
    # Each of these words takes one of the turns where whoosh departs from plain Porter.
    quirks = {
        "hopping": "hopp",  # its doubled-consonant rule never applies
        "hoping": "hope",
        "ating": "at",  # "at" gets its e back, which the last step removes again
        "yelling": "yell",  # a leading y is a consonant
        "syzygy": "syzygi",
        "style": "style",  # a y ends the measure
        "relational": "relat",
        "generalization": "gener",
        "ties": "ti",
        "bo\U00020000ing": "bo\U00020000e",  # one code point, one consonant
        "a\U00020000": "a\U00020000",  # two code points: too short to stem
        "étés": "été",
        "fly.io": "fly.io",
        "k8s": "k8",
        "snake_cased": "snake_cas",
        "東京s": "東京",
    }
    assert {word: whoosh_stem(word) for word in quirks} == quirks
    assert differences(quirks, tmp_path) == []


def test_every_word_of_the_examples_and_fixtures(tmp_path: Path) -> None:
    words: set[str] = set()
    for folder in (ROOT / "examples", ROOT / "tests" / "data"):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                words |= words_of(path.read_bytes().decode("utf-8", errors="replace"))
    assert len(words) > 1000
    check("example and fixture", words, tmp_path)


# Endings the rules look at, added to random stems so that most rules fire.
ENDINGS = (
    *("s", "es", "ies", "sses", "ss", "ed", "eed", "ing", "y", "e", "ll", "ly", "ion"),
    *("ational", "tional", "enci", "anci", "izer", "bli", "alli", "entli", "eli", "ousli"),
    *("ization", "ation", "ator", "alism", "iveness", "fulness", "ousness", "aliti"),
    *("iviti", "biliti", "logi", "icate", "ative", "alize", "iciti", "ical", "ful", "ness"),
    *("al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ou"),
    *("ism", "ate", "iti", "ous", "ive", "ize", "sion", "tion", "ated", "izing", "bled"),
)
# Vowels and y often, so stems have every measure; a few letters outside ASCII, digits and
# the dots and underscores the tokenizer keeps inside a word.
LETTERS = string.ascii_lowercase + "aeiouy" * 3 + "éßçıñ東京\U00020000" + "0123456789._"


def random_word(rng: random.Random) -> str:
    stem = "".join(rng.choice(LETTERS) for _ in range(rng.randint(0, 9)))
    if rng.random() < 0.1:
        stem = "y" + stem
    return stem + (rng.choice(ENDINGS) if rng.random() < 0.7 else "")


def test_arbitrary_words(tmp_path: Path) -> None:
    rng = random.Random(20250314)
    words = {random_word(rng) for _ in range(30_000)}
    assert len(words) > 20_000
    check("arbitrary", words, tmp_path)


_TEXT_ELEMENT = re.compile(
    r"<((?:itunes:)?(?:title|subtitle|summary|description)|content:encoded)\b[^>]*>(.*?)</\1>",
    re.DOTALL,
)


def corpus_text(feed: str) -> Iterable[str]:
    """The titles and descriptions of a feed, as text: CDATA, entities and tags undone."""
    for _, inner in _TEXT_ELEMENT.findall(feed):
        markup = html.unescape(inner.replace("<![CDATA[", "").replace("]]>", ""))
        yield html.unescape(re.sub(r"<[^>]*>", " ", markup))


@pytest.mark.corpus
def test_every_word_of_the_corpus_titles_and_descriptions(tmp_path: Path) -> None:
    words: set[str] = set()
    for path in sorted((CORPUS / "feeds").iterdir()):
        if path.suffix in (".xml", ".rss"):
            for text in corpus_text(path.read_bytes().decode("utf-8", errors="replace")):
                words |= words_of(text)
    assert len(words) > 10_000
    check("corpus", words, tmp_path)
