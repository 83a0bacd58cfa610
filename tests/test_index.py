"""The search index: incremental updates, rebuilds, filters, ranking quality, odd queries."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devcasts.model import SiteConfig, Topic
from devcasts.records import Catalog, Episode, Person, Podcast, TranscriptTurn
from devcasts.search import searcher as search_index
from devcasts.search import writer as index_writer
from devcasts.search.marker import index_exists
from devcasts.search.searcher import (
    IndexMissingError,
    QuerySyntaxError,
    SearchRequest,
    search,
)
from devcasts.search.writer import update_index
from devcasts.util.text import slugify

DATA = Path(__file__).parent / "data" / "search"
BASE_URL = "https://example.github.io/devcasts/"


def load_test_catalog() -> Catalog:
    """The invented archive of tests/data/search/episodes.yaml as a Catalog."""
    data = yaml.safe_load((DATA / "episodes.yaml").read_text(encoding="utf-8"))
    episodes = [_episode(entry) for entry in data["episodes"]]
    episodes.sort(key=lambda e: (e.published, e.id), reverse=True)
    return Catalog(
        site=SiteConfig(title="devcasts", base_url=BASE_URL),
        topics=tuple(Topic(slug, name, (name,)) for slug, name in data["topics"].items()),
        podcasts=tuple(
            Podcast(slug=slug, title=title, feed_url=f"{slug}.xml")
            for slug, title in sorted(data["podcasts"].items(), key=lambda item: item[1])
        ),
        episodes=tuple(episodes),
    )


def _episode(entry: dict[str, Any]) -> Episode:
    published = datetime.combine(entry["date"], datetime.min.time(), tzinfo=UTC)
    return Episode(
        id=entry["key"],
        podcast=entry["podcast"],
        guid=entry["key"],
        title=entry["title"],
        published=published,
        summary=entry["notes"][:120],
        text=entry["notes"],
        duration=1800 + 60 * len(entry["notes"]) % 1200,
        people=tuple(Person(name=n, slug=slugify(n)) for n in entry.get("people", [])),
        language=entry.get("language", "en"),
        topics=tuple(entry.get("topics", [])),
        content_hash=entry["key"] + "-v1",
        slug=slugify(entry["title"]),
    )


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_test_catalog()


@pytest.fixture(scope="module")
def built(catalog: Catalog, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("built") / "index"
    update_index(catalog, index_dir)
    return index_dir


def ids(index_dir: Path, text: str, **options: Any) -> list[str]:
    return [hit.id for hit in search(index_dir, SearchRequest(text, **options)).hits]


def replace_episode(catalog: Catalog, episode_id: str, **changes: Any) -> Catalog:
    """The catalog with one episode edited (and its content hash changed, as upstream does)."""
    own_fields = set(changes) - {"topics", "featured", "slug"}
    if own_fields:
        changes.setdefault("content_hash", f"{episode_id}-{sorted(changes.items())!r}")
    episodes = tuple(
        dataclasses.replace(e, **changes) if e.id == episode_id else e for e in catalog.episodes
    )
    return dataclasses.replace(catalog, episodes=episodes)


# --- quality --------------------------------------------------------------------------------


def test_judged_queries_reach_a_mean_reciprocal_rank_of_at_least_0_9(built: Path) -> None:
    judged = yaml.safe_load((DATA / "judged.yaml").read_text(encoding="utf-8"))["queries"]
    assert len(judged) >= 30
    ranks: dict[str, float] = {}
    for case in judged:
        wanted = {case["top"]} if "top" in case else set(case["any"])
        found = ids(built, case["query"], limit=10)
        rank = next((n for n, doc_id in enumerate(found, 1) if doc_id in wanted), None)
        ranks[case["query"]] = 1 / rank if rank else 0.0
    mrr = sum(ranks.values()) / len(ranks)
    misses = {q: r for q, r in ranks.items() if r < 1}
    assert mrr >= 0.9, f"MRR {mrr:.3f}; not first: {misses}"


# --- building and updating ------------------------------------------------------------------


def test_first_build_indexes_every_episode_and_writes_the_marker(
    catalog: Catalog, tmp_path: Path
) -> None:
    report = update_index(catalog, tmp_path / "index")
    assert (report.added, report.updated, report.removed) == (len(catalog.episodes), 0, 0)
    assert report.rebuilt and report.total == len(catalog.episodes) == 64
    assert index_exists(tmp_path / "index")


def test_an_unchanged_catalog_touches_nothing(catalog: Catalog, tmp_path: Path) -> None:
    update_index(catalog, tmp_path)
    files_before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    report = update_index(catalog, tmp_path)
    assert (report.added, report.updated, report.removed, report.rebuilt) == (0, 0, 0, False)
    assert {p.name for p in tmp_path.iterdir()} == set(files_before)


def test_only_changed_new_and_removed_episodes_are_written(
    catalog: Catalog, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_index(catalog, tmp_path)
    newcomer = dataclasses.replace(
        catalog.episodes[0], id="new-1", title="Quokka hosting special", slug="quokka"
    )
    changed = replace_episode(catalog, "so-03", title="A VPS, systemd and a wombat")
    changed = dataclasses.replace(
        changed,
        episodes=(newcomer, *(e for e in changed.episodes if e.id != "cb-07")),
    )
    written: list[str] = []
    real_writer = index_writer._writer

    def spying_writer(ix: Any) -> Any:
        writer = real_writer(ix)
        original = writer.add_document  # update_document adds through it too

        def spy(**fields: Any) -> Any:
            written.append(fields["id"])
            return original(**fields)

        writer.add_document = spy
        return writer

    monkeypatch.setattr(index_writer, "_writer", spying_writer)
    report = update_index(changed, tmp_path)
    assert (report.added, report.updated, report.removed) == (1, 1, 1)
    assert sorted(written) == ["new-1", "so-03"]
    assert ids(tmp_path, "wombat") == ["so-03"]
    assert ids(tmp_path, "quokka") == ["new-1"]
    assert ids(tmp_path, "finops") == []


def test_topic_and_url_changes_count_as_changes(catalog: Catalog, tmp_path: Path) -> None:
    update_index(catalog, tmp_path)
    assert update_index(catalog, tmp_path).updated == 0
    retagged = replace_episode(catalog, "so-03", topics=("dokku",))
    assert update_index(retagged, tmp_path).updated == 1
    assert "so-03" in ids(tmp_path, "", topic="dokku")
    moved = dataclasses.replace(
        retagged, site=dataclasses.replace(retagged.site, base_url="https://ex.org/")
    )
    assert update_index(moved, tmp_path).updated == len(catalog.episodes)
    assert search(tmp_path, SearchRequest("systemd")).hits[0].url.startswith("https://ex.org/")


def test_a_renamed_show_indexes_its_own_episodes_again(catalog: Catalog, tmp_path: Path) -> None:
    """The show's title is in its episodes' documents, not in their records."""
    update_index(catalog, tmp_path)
    renamed_show = catalog.podcasts[0]
    podcasts = tuple(
        dataclasses.replace(p, title="Quite Another Name") if p is renamed_show else p
        for p in catalog.podcasts
    )
    report = update_index(dataclasses.replace(catalog, podcasts=podcasts), tmp_path)
    own = [e for e in catalog.episodes if e.podcast == renamed_show.slug]
    assert own and report.updated == len(own)
    hits = search(tmp_path, SearchRequest("", podcast=renamed_show.slug)).hits
    assert {hit.podcast for hit in hits} == {"Quite Another Name"}


def test_a_retitle_that_keeps_the_content_hash_is_indexed(catalog: Catalog, tmp_path: Path) -> None:
    """overrides.yaml retitles an episode after its content hash was taken."""
    update_index(catalog, tmp_path)
    retitled = dataclasses.replace(
        catalog,
        episodes=tuple(
            dataclasses.replace(e, title="Caddy and a capybara") if e.id == "so-07" else e
            for e in catalog.episodes
        ),
    )
    report = update_index(retitled, tmp_path)
    assert (report.added, report.updated, report.removed, report.rebuilt) == (0, 1, 0, False)
    hits = search(tmp_path, SearchRequest("capybara")).hits
    assert [(hit.id, hit.title) for hit in hits] == [("so-07", "Caddy and a capybara")]


def test_a_linked_transcript_that_arrives_or_goes_is_indexed(
    catalog: Catalog, tmp_path: Path
) -> None:
    """The transcript file is read after the feed's content hash was taken, and the catalog's
    transcript budget can drop it again: both change the episode's document."""
    update_index(catalog, tmp_path)
    turns = (TranscriptTurn("Host", "We talk about a capybara named Otto."),)

    def with_transcript(linked: tuple[TranscriptTurn, ...]) -> Catalog:
        episodes = tuple(
            dataclasses.replace(
                e, linked_transcript=linked, linked_transcript_url="https://t/1.vtt"
            )
            if e.id == "so-07"
            else e
            for e in catalog.episodes
        )
        return dataclasses.replace(catalog, episodes=episodes)

    report = update_index(with_transcript(turns), tmp_path)
    assert (report.added, report.updated, report.rebuilt) == (0, 1, False)
    assert [hit.id for hit in search(tmp_path, SearchRequest("capybara")).hits] == ["so-07"]
    report = update_index(with_transcript(()), tmp_path)
    assert report.updated == 1
    assert search(tmp_path, SearchRequest("capybara")).hits == []


def test_an_older_schema_version_is_rebuilt(catalog: Catalog, tmp_path: Path) -> None:
    update_index(catalog, tmp_path)
    (tmp_path / index_writer.MARKER_NAME).write_text('{"schema_version": 0}', encoding="utf-8")
    assert not index_exists(tmp_path)
    with pytest.raises(IndexMissingError, match="older version"):
        search(tmp_path, SearchRequest("caddy"))
    report = update_index(catalog, tmp_path)
    assert report.rebuilt and report.added == len(catalog.episodes)
    assert ids(tmp_path, "caddy") == ["so-07"]


def test_a_corrupt_index_is_rebuilt(catalog: Catalog, tmp_path: Path) -> None:
    update_index(catalog, tmp_path)
    for path in tmp_path.iterdir():
        if path.suffix in {".seg", ".toc"}:
            path.write_bytes(b"\x00garbage")
    (tmp_path / "unrelated.txt").write_text("keep me", encoding="utf-8")
    report = update_index(catalog, tmp_path)
    assert report.rebuilt
    assert ids(tmp_path, "caddy") == ["so-07"]
    assert (tmp_path / "unrelated.txt").read_text(encoding="utf-8") == "keep me"


def test_a_missing_index_gives_a_message_that_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match=r"python build\.py"):
        search(tmp_path / "nowhere", SearchRequest("anything"))


def test_the_same_catalog_gives_the_same_results(catalog: Catalog, tmp_path: Path) -> None:
    update_index(catalog, tmp_path / "a")
    update_index(dataclasses.replace(catalog, episodes=catalog.episodes[::-1]), tmp_path / "b")
    for text in ("kubernetes", "heroku", "deploy", ""):
        first = search(tmp_path / "a", SearchRequest(text, limit=50))
        second = search(tmp_path / "b", SearchRequest(text, limit=50))
        assert [(h.id, h.score) for h in first.hits] == [(h.id, h.score) for h in second.hits]


# --- searching ------------------------------------------------------------------------------


def test_hits_carry_what_the_cli_and_json_need(built: Path) -> None:
    response = search(built, SearchRequest("pgbouncer"))
    assert response.total == 1 and not response.corrected
    hit = response.hits[0]
    assert (hit.id, hit.title, hit.podcast, hit.podcast_slug) == (
        "bh-08",
        "Heroku Postgres connection limits and pgbouncer",
        "The Buildpack Hour",
        "buildpack-hour",
    )
    assert (
        hit.url
        == BASE_URL + "podcasts/buildpack-hour/heroku-postgres-connection-limits-and-pgbouncer/"
    )
    assert hit.published == datetime(2023, 6, 7, tzinfo=UTC)
    assert hit.topics == ("heroku",) and hit.language == "en" and hit.score > 0
    assert ("pgbouncer", True) in hit.snippet
    assert "[[pgbouncer]]" in hit.snippet_marked


def test_phrases_and_or_not(built: Path) -> None:
    assert ids(built, '"deploy previews"') == ["ec-02", "pn-04"] or set(
        ids(built, '"deploy previews"')
    ) == {"ec-02", "pn-04"}
    assert "ec-02" not in ids(built, '"previews deploy"')
    assert set(ids(built, "caddy OR systemd")) == {"so-03", "so-07"}
    assert ids(built, "caddy AND systemd") == []
    with_aws = set(ids(built, "kubernetes", limit=50))
    without_aws = set(ids(built, "kubernetes NOT aws", limit=50))
    assert "ct-04" in with_aws and "ct-04" not in without_aws
    assert without_aws < with_aws


def test_stemming_finds_other_forms(built: Path) -> None:
    assert "ct-03" in ids(built, "autoscale")
    assert "pn-01" in ids(built, "flaky test")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"podcast": "small-ops"}, {"so-01", "so-05"}),
        ({"podcast": "Small Ops"}, {"so-01", "so-05"}),
        ({"topic": "dokku", "lang": "de"}, {"dh-08"}),
        ({"person": "Felix Grant"}, {"so-01", "so-05", "dh-08"}),
        ({"since": date(2023, 1, 3), "until": date(2023, 1, 3)}, {"so-05"}),
        ({"until": date(2022, 9, 30)}, {"so-01"}),
    ],
)
def test_filters(built: Path, options: dict[str, Any], expected: set[str]) -> None:
    assert set(ids(built, "dokku", limit=50, **options)) == expected


def test_filters_alone_list_matching_episodes(built: Path) -> None:
    german = search(built, SearchRequest("", lang="de", limit=100))
    assert german.total == 8
    assert all(hit.language == "de" for hit in german.hits)


def test_sort_newest(built: Path) -> None:
    hits = search(built, SearchRequest("kubernetes", sort="newest", limit=50)).hits
    dates = [hit.published for hit in hits]
    assert dates == sorted(dates, reverse=True) and len(dates) > 5
    relevance = [hit.id for hit in search(built, SearchRequest("kubernetes", limit=50)).hits]
    assert relevance != [hit.id for hit in hits]


def test_limit_and_total(built: Path) -> None:
    response = search(built, SearchRequest("kubernetes", limit=3))
    assert len(response.hits) == 3 and response.total > 3


def test_did_you_mean_uses_the_index_words(built: Path) -> None:
    response = search(built, SearchRequest("pgbuoncer"))
    assert response.suggestion == "pgbouncer" and response.corrected
    assert [hit.id for hit in response.hits] == ["bh-08"]


@pytest.mark.parametrize(
    ("text", "suggestion", "first"),
    [
        ("obsevability", "observability", "ct-08"),
        ("kuberntes autoscalng", "kubernetes autoscaler", "ct-03"),
        ("egres fees", "egress fees", "cb-03"),
        ("person:felix dokuu", "person:felix dokku", "so-01"),
    ],
)
def test_suggestions_are_words_as_written(
    built: Path, text: str, suggestion: str, first: str
) -> None:
    response = search(built, SearchRequest(text))
    assert (response.suggestion, response.corrected) == (suggestion, True)
    assert response.hits[0].id == first


def test_fuzzy_retry_when_no_suggestion_is_better(built: Path) -> None:
    response = search(built, SearchRequest("turborepos caching"))
    assert response.hits and response.hits[0].id == "ec-05"


@pytest.mark.parametrize(
    ("text", "partial", "first"),
    [
        ("pgbouncer postgres egress", (2, 3), "bh-08"),  # no episode has all three
        ("pgbouncer egress", (1, 2), "cb-03"),
        ("xylophonequartz egress", (1, 2), "cb-03"),  # an unknown word is one of the words
        ("pgbuoncer egress fees", (2, 3), "cb-03"),  # after the spelling fix
        ("heroku kubernetes dokku caddy systemd egress pgbouncer argo", (2, 8), "bh-08"),
    ],
)
def test_no_dead_end_episodes_with_most_of_the_words(
    built: Path, text: str, partial: tuple[int, int], first: str
) -> None:
    response = search(built, SearchRequest(text))
    assert response.partial == partial
    assert response.hits[0].id == first


def test_more_of_the_words_ranks_higher_in_the_fallback(built: Path) -> None:
    """Episodes with 2 of 3 words come before those with 1 (when the fallback stops at 1)."""
    two = {hit.id for hit in search(built, SearchRequest("pgbouncer postgres")).hits}
    response = search(built, SearchRequest("pgbouncer postgres xylophonequartz"))
    assert response.partial == (2, 3) and {hit.id for hit in response.hits} == two


def test_the_fallback_keeps_exclusions_and_an_explicit_and(built: Path) -> None:
    response = search(built, SearchRequest("pgbouncer postgres egress -heroku"))
    assert response.partial is not None
    assert all("heroku" not in hit.topics for hit in response.hits)
    explicit = search(built, SearchRequest("caddy AND systemd"))
    assert (explicit.hits, explicit.partial) == ([], None)


def test_a_full_match_is_never_called_partial(built: Path) -> None:
    assert search(built, SearchRequest("pgbouncer postgres")).partial is None


def test_nothing_found_is_an_empty_answer(built: Path) -> None:
    response = search(built, SearchRequest("xylophonequartz"))
    assert (response.hits, response.total, response.corrected) == ([], 0, False)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"unclosed phrase', "unbalanced quote"),
        ("(heroku OR render", "never closed"),
        ("heroku)", "never opened"),
        ("heroku AND", "on its right"),
        ("OR heroku", "on its left"),
        ("heroku AND OR render", "on its left"),
        ("colour:blue", "unknown field 'colour'"),
        ("x" * 600, "too long"),
    ],
)
def test_malformed_queries_raise_a_clear_error(built: Path, text: str, message: str) -> None:
    with pytest.raises(QuerySyntaxError, match=message):
        search(built, SearchRequest(text))


def test_urls_and_field_aliases_are_not_malformed(built: Path) -> None:
    assert ids(built, "topic:netlify jamstack") == ["ec-07"]
    assert "ct-06" in ids(built, "person:ingrid gitops")
    search(built, SearchRequest("https://fly.io"))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=60))
def test_any_query_either_answers_or_raises_a_query_error(built: Path, text: str) -> None:
    try:
        response = search(built, SearchRequest(text))
    except QuerySyntaxError as error:
        assert str(error)
    else:
        assert response.total >= len(response.hits)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), max_size=6))
def test_snippet_segments_rebuild_a_piece_of_the_text(words: list[str]) -> None:
    text = " ".join(words) + " deployment notes about Heroku dynos"
    segments = search_index.make_snippet(text, "", frozenset({"heroku"}))
    assert any(match for _, match in segments)
    assert all(part.lower() == "heroku" for part, match in segments if match)


def test_an_episode_without_content_hash_is_compared_by_its_document(
    catalog: Catalog, tmp_path: Path
) -> None:
    unhashed = dataclasses.replace(
        catalog, episodes=tuple(dataclasses.replace(e, content_hash="") for e in catalog.episodes)
    )
    update_index(unhashed, tmp_path)
    assert update_index(unhashed, tmp_path).updated == 0
    edited = dataclasses.replace(
        unhashed,
        episodes=tuple(
            dataclasses.replace(e, title="Caddy and a capybara") if e.id == "so-07" else e
            for e in unhashed.episodes
        ),
    )
    assert update_index(edited, tmp_path).updated == 1
    assert ids(tmp_path, "capybara") == ["so-07"]


def test_hostile_notes_are_indexed_as_text(catalog: Catalog, tmp_path: Path) -> None:
    hostile = replace_episode(
        catalog, "so-07", text="<script>alert(1)</script> \x1b[31mcaddy\x00 " + "x" * 80_000
    )
    update_index(hostile, tmp_path)
    hit = search(tmp_path, SearchRequest("caddy")).hits[0]
    assert hit.id == "so-07" and len(hit.snippet_text) < 400


def test_a_damaged_index_at_search_time_says_how_to_repair(
    catalog: Catalog, tmp_path: Path
) -> None:
    update_index(catalog, tmp_path)
    for path in tmp_path.iterdir():
        if path.suffix not in {".toc", ".json"}:
            path.write_bytes(b"\x00" * 64)
    with pytest.raises(IndexMissingError, match=r"rebuild it with python build\.py"):
        search(tmp_path, SearchRequest("caddy"))


# --- bounds: no query runs away -------------------------------------------------------------


def test_a_leading_minus_excludes_and_a_hyphen_inside_a_word_does_not() -> None:
    assert search_index.minus_as_not("-heroku") == "NOT heroku"
    assert search_index.minus_as_not("k8s (-aws OR fly)") == "k8s (NOT aws OR fly)"
    assert search_index.minus_as_not('x-ray "no -change"') == 'x-ray "no -change"'
    assert search_index.cap_fuzzy_distances("kubernetes~99 fly~1") == "kubernetes~2 fly~1"


def test_minus_finds_what_not_finds(built: Path) -> None:
    assert ids(built, "kubernetes -argo") == ids(built, "kubernetes NOT argo")
    assert set(ids(built, "kubernetes -argo")) < set(ids(built, "kubernetes"))


def test_patterns_expand_to_a_bounded_number_of_the_most_used_words(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_index, "MAX_EXPANSIONS", 3)
    response = search_index.search(built, SearchRequest("*e*"))
    assert response.hits and any("the most used were searched" in n for n in response.notices)
    schema = search_index.build_schema()
    parsed = search_index.parse_query(search_index.make_parser(schema), "title:*e*")
    with search_index._open_for_search(built, schema).searcher() as searcher:
        reader = searcher.reader()
        bounded = search_index.bound_query(reader, parsed, search_index.Budget(5))
        assert isinstance(bounded, search_index.Expansion) and len(bounded.words) == 3
        every = sorted(reader.expand_prefix("title", ""), key=lambda w: w)
        frequency = sorted(
            (reader.doc_frequency("title", w) for w in every if b"e" in w), reverse=True
        )
        assert [reader.doc_frequency("title", w) for w in bounded.words] != [] and sorted(
            (reader.doc_frequency("title", w) for w in bounded.words), reverse=True
        ) == frequency[:3]


def test_a_search_out_of_time_returns_what_it_found_and_says_so(
    built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from whoosh.collectors import TimeLimitCollector

    class OutOfTime(TimeLimitCollector):  # type: ignore[misc]
        """whoosh's collector as if its timer had fired before the first match."""

        def prepare(self, *args: Any) -> None:
            super().prepare(*args)
            self.timedout = True

    monkeypatch.setattr(search_index, "TimeLimitCollector", OutOfTime)
    response = search_index.search(built, SearchRequest("kubernetes"))
    assert any("the search stopped after 5 s" in note for note in response.notices)
    assert not response.total_exact and response.total == len(response.hits) <= 1


def test_a_star_alone_matches_every_episode(built: Path, catalog: Catalog) -> None:
    assert search_index.search(built, SearchRequest("*", limit=1000)).total == len(catalog.episodes)
