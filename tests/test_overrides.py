"""Curation from content/overrides.yaml: each action, and every mistake named by file and line."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.archive.merge import merge_feeds
from devcasts.archive.state import ArchiveState
from devcasts.catalog.build import build_catalog
from devcasts.catalog.overrides import KNOWN_KEYS, Overrides, apply_override, load_overrides
from devcasts.errors import ConfigError
from devcasts.model import Config, FeedSource, SiteConfig, Topic
from devcasts.records import Catalog, Episode, NormalizedFeed, Podcast
from devcasts.site import urls

PROJECT = Path(__file__).resolve().parents[1]
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
START = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


def make_episode(n: int, podcast: str, **changes: object) -> Episode:
    episode = Episode(
        id=f"{podcast}-{n}",
        podcast=podcast,
        guid=f"tag:example.test,2024:{n}",  # the same guid in both podcasts, on purpose
        title=f"{podcast.title()} episode {n}",
        published=START + timedelta(days=n),
        topics=("heroku",),
        content_hash=f"{podcast}-{n}",
    )
    return replace(episode, **changes)  # type: ignore[arg-type]


def make_feed(slug: str, episodes: list[Episode]) -> NormalizedFeed:
    podcast = Podcast(slug=slug, title=slug.title(), feed_url=f"https://example.test/{slug}")
    return NormalizedFeed(podcast=podcast, episodes=tuple(episodes))


CONFIG = Config(
    site=SiteConfig(title="Casts", base_url="https://example.test/"),
    topics=(
        Topic("heroku", "Heroku", ("Heroku",)),
        Topic("dokku", "Dokku", ("Dokku",)),
        Topic("fly", "Fly.io", ("Fly.io",)),
    ),
    feeds=(FeedSource("https://example.test/tides", "tides"), FeedSource("x", "gulls")),
    path=Path("feeds.yaml"),
    content_dir=Path("content"),
    templates_dir=Path("templates"),
)


def archive() -> ArchiveState:
    feeds = [
        make_feed("tides", [make_episode(n, "tides") for n in range(1, 4)]),
        make_feed("gulls", [make_episode(n, "gulls") for n in range(1, 3)]),
    ]
    return merge_feeds(ArchiveState(), feeds, NOW)[0]


def write_overrides(content: Path, text: str) -> Path:
    content.mkdir(parents=True, exist_ok=True)
    path = content / "overrides.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def catalog_with(tmp_path: Path, text: str, state: ArchiveState | None = None) -> Catalog:
    write_overrides(tmp_path, text)
    return build_catalog(state or archive(), CONFIG, load_overrides(tmp_path))


def by_id(catalog: Catalog) -> dict[str, Episode]:
    return {e.id: e for e in catalog.episodes}


# --- actions --------------------------------------------------------------------------------


def test_no_file_means_no_overrides(tmp_path: Path) -> None:
    overrides = load_overrides(tmp_path)
    assert overrides.episodes == ()
    assert len(build_catalog(archive(), CONFIG, overrides).episodes) == 5


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "episodes:\n", "episodes: []\n"])
def test_an_empty_file_means_no_overrides(tmp_path: Path, text: str) -> None:
    write_overrides(tmp_path, text)
    assert load_overrides(tmp_path).episodes == ()


def test_hide_removes_the_episode_from_the_site(tmp_path: Path) -> None:
    catalog = catalog_with(
        tmp_path,
        """
        episodes:
          - episode: tides/tides-episode-2
            hide: true
        """,
    )
    assert "tides-2" not in by_id(catalog)
    assert len(catalog.episodes) == 4


def test_feature_marks_the_episode(tmp_path: Path) -> None:
    catalog = catalog_with(
        tmp_path,
        """
        episodes:
          - id: gulls-1
            feature: true
        """,
    )
    assert [e.id for e in catalog.episodes if e.featured] == ["gulls-1"]


def test_title_corrects_the_title_but_keeps_the_url(tmp_path: Path) -> None:
    catalog = catalog_with(
        tmp_path,
        """
        episodes:
          - episode: /podcasts/tides/tides-episode-1/
            title: "  The   corrected   title  "
        """,
    )
    episode = by_id(catalog)["tides-1"]
    assert episode.title == "The corrected title"
    assert urls.episode(episode) == "podcasts/tides/tides-episode-1/"


def test_topics_are_added_and_removed_in_feeds_yaml_order(tmp_path: Path) -> None:
    catalog = catalog_with(
        tmp_path,
        """
        episodes:
          - guid: "tag:example.test,2024:3"
            add_topics: [fly, dokku]
            remove_topics: heroku
        """,
    )
    assert by_id(catalog)["tides-3"].topics == ("dokku", "fly")
    assert by_id(catalog)["tides-2"].topics == ("heroku",)


def test_a_guid_shared_by_two_podcasts_needs_the_podcast(tmp_path: Path) -> None:
    catalog = catalog_with(
        tmp_path,
        """
        episodes:
          - guid: "tag:example.test,2024:1"
            podcast: gulls
            hide: true
        """,
    )
    assert "gulls-1" not in by_id(catalog)
    assert "tides-1" in by_id(catalog)


def test_overrides_survive_a_refresh_that_edits_the_episode(tmp_path: Path) -> None:
    state = archive()
    edited = make_episode(1, "tides", title="Retitled upstream", content_hash="new")
    state, changes = merge_feeds(state, [make_feed("tides", [edited])], NOW + timedelta(days=1))
    assert changes.updated_episodes == {"tides": ("tides-1",)}
    catalog = catalog_with(
        tmp_path,
        """
        episodes:
          - episode: tides/tides-episode-1
            title: Our title
            feature: true
        """,
        state,
    )
    episode = by_id(catalog)["tides-1"]
    assert (episode.title, episode.featured) == ("Our title", True)
    archived = next(e for e in state.episodes() if e.id == "tides-1")
    assert archived.title == "Retitled upstream"  # the archive itself is never curated
    assert not archived.featured


def test_the_shipped_example_file_loads_and_changes_nothing() -> None:
    overrides = load_overrides(PROJECT / "content")
    assert (PROJECT / "content" / "overrides.yaml").is_file()
    assert build_catalog(archive(), CONFIG, overrides) == build_catalog(
        archive(), CONFIG, Overrides()
    )


# --- mistakes -------------------------------------------------------------------------------


BAD_OVERRIDES = [
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            hidden: true
        """,
        3,
        "hidden: unknown key",
        id="unknown-key",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            hide: "yes please"
        """,
        3,
        "hide: expected true or false",
        id="hide-not-bool",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            feature: true
          - episode: tides/no-such-episode
            hide: true
        """,
        4,
        "episode: no archived episode matches 'tides/no-such-episode'",
        id="unknown-episode",
    ),
    pytest.param(
        """
        episodes:
          - id: nobody-1
            hide: true
        """,
        2,
        "id: no archived episode matches",
        id="unknown-id",
    ),
    pytest.param(
        """
        episodes:
          - guid: "tag:example.test,2024:1"
            hide: true
        """,
        2,
        "add podcast: <slug>",
        id="ambiguous-guid",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            hide: true
          - id: tides-1
            feature: true
        """,
        4,
        "already has an override at line 2",
        id="same-episode-twice",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            add_topics: [heroku, kubernetes]
        """,
        3,
        "add_topics: unknown topic 'kubernetes'",
        id="unknown-topic",
    ),
    pytest.param(
        """
        episodes:
          - title: Orphan
        """,
        2,
        "exactly one of episode, id, guid",
        id="no-selector",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            id: tides-1
            hide: true
        """,
        2,
        "exactly one of episode, id, guid",
        id="two-selectors",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
        """,
        2,
        "nothing to do",
        id="no-action",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            hide: true
            feature: true
        """,
        4,
        "hide and feature together",
        id="hide-and-feature",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides-episode-1
            hide: true
        """,
        2,
        "episode: expected <podcast-slug>/<episode-slug>",
        id="episode-without-podcast",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            title: ""
        """,
        3,
        "title: must not be empty",
        id="empty-title",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            title: [a, list]
        """,
        3,
        "title: expected text",
        id="title-not-text",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            hide: true
            hide: false
        """,
        4,
        "hide: given twice (first at line 3)",
        id="duplicate-key",
    ),
    pytest.param(
        """
        podcasts:
          tides: {hide: true}
        """,
        1,
        "podcasts: unknown key",
        id="unknown-top-level-key",
    ),
    pytest.param(
        """
        episodes:
          episode: tides/tides-episode-1
        """,
        2,
        "episodes: expected a list",
        id="not-a-list",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            title: "unclosed
          - id: x
        """,
        5,
        "(while scanning a quoted scalar at line 3)",
        id="unclosed-quote",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            hide: true
           feature: true
        """,
        4,
        "not valid YAML",
        id="bad-indentation",
    ),
    pytest.param(
        """
        - episode: tides/tides-episode-1
        """,
        1,
        "expected a mapping",
        id="top-level-list",
    ),
    pytest.param(
        """
        episodes:
          - episode: tides/tides-episode-1
            add_topics: [dokku]
            remove_topics: [dokku]
        """,
        4,
        "dokku both added and removed",
        id="add-and-remove",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_OVERRIDES)
def test_a_bad_override_names_the_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = write_overrides(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        build_catalog(archive(), CONFIG, load_overrides(tmp_path))
    assert caught.value.path == path
    assert caught.value.line == line, str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert message in str(caught.value)


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "overrides.yaml"
    path.write_bytes(b"episodes:\n  - title: \xff\xfe\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load_overrides(tmp_path)


# --- any input: an Overrides value or a ConfigError, nothing else ----------------------------

yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=12),
    st.sampled_from(["tides/tides-episode-1", "tides-1", "heroku", "dokku"]),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
entries = st.dictionaries(
    st.sampled_from([*KNOWN_KEYS, "hidden", "notes"]), yaml_values, max_size=4
)


@settings(max_examples=150, deadline=None)
@given(
    document=st.dictionaries(
        st.sampled_from(["episodes", "other"]),
        st.lists(entries, max_size=3) | yaml_values,
        max_size=2,
    )
)
def test_any_structured_file_loads_or_fails_with_a_config_error(
    tmp_path_factory: pytest.TempPathFactory, document: dict[str, object]
) -> None:
    content = tmp_path_factory.mktemp("content")
    (content / "overrides.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    try:
        build_catalog(archive(), CONFIG, load_overrides(content))
    except ConfigError as error:
        assert str(error).startswith(str(content / "overrides.yaml"))


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=80))
def test_any_text_loads_or_fails_with_a_config_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    content = tmp_path_factory.mktemp("content")
    (content / "overrides.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_overrides(content)
    except ConfigError as error:
        assert error.path == content / "overrides.yaml"


_TOPIC_SLUGS = ["heroku", "fly-io", "render", "vercel", "kubernetes"]


@given(
    topics=st.lists(st.sampled_from([*_TOPIC_SLUGS, "gone-from-feeds-yaml"]), max_size=5),
    known=st.permutations(_TOPIC_SLUGS).flatmap(
        lambda order: st.integers(0, len(order)).map(lambda n: order[:n])
    ),
)
def test_an_episode_without_override_keeps_its_known_topics_in_feeds_yaml_order(
    topics: list[str], known: list[str]
) -> None:
    """Whether or not its topics are already as feeds.yaml orders them (most are)."""
    rank = {slug: position for position, slug in enumerate(known)}
    episode = _episode_with_topics(tuple(topics))
    curated = apply_override(episode, None, rank)
    assert curated is not None
    expected = tuple(sorted({t for t in topics if t in rank}, key=rank.__getitem__))
    assert curated.topics == expected
    assert (curated is episode) == (expected == episode.topics)


def _episode_with_topics(topics: tuple[str, ...]) -> Episode:
    return Episode(
        id="e1",
        podcast="show",
        guid="e1",
        title="An episode",
        published=datetime(2024, 5, 1, tzinfo=UTC),
        topics=topics,
    )
