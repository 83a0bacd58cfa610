"""The catalog: the archive as the sinks show it, curated, merged across feeds and sorted.

Built from the archive's state, feeds.yaml and content/overrides.yaml; the cross-feed merge
(dedupe.py) happens here, so that the archive keeps every feed's own copy of an episode.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from devcasts.archive.state import ArchiveState, feed_key
from devcasts.catalog.dedupe import merge_across_feeds
from devcasts.catalog.linked_chapters import with_linked_chapters
from devcasts.catalog.linked_transcripts import with_linked_transcript, within_budget
from devcasts.catalog.overrides import Overrides, apply_override, resolve_overrides
from devcasts.model import Config, FeedHealth, FeedSource
from devcasts.records import Catalog, Episode, Podcast
from devcasts.util.episode_dates import date_unknown, newest_first_key

__all__ = ["build_catalog"]


def build_catalog(
    state: ArchiveState,
    config: Config,
    overrides: Overrides,
    health: Sequence[FeedHealth] = (),
) -> Catalog:
    """The read-only view the sinks render: curated, merged across feeds, sorted.

    A podcast removed from feeds.yaml leaves the site, but its archive file stays on disk, so
    adding it back restores every episode with the same URLs.
    """
    topic_rank = {topic.slug: rank for rank, topic in enumerate(config.topics)}
    resolved = resolve_overrides(overrides, state.episodes(), topic_rank)
    sources = {source.slug: source for source in config.feeds}
    podcasts: list[Podcast] = []
    episodes: list[Episode] = []
    for record in state.podcasts:
        source = sources.get(feed_key(record.podcast))
        if source is None:
            continue
        podcasts.append(_as_configured(record.podcast, source))
        for episode in record.episodes:
            shown = with_linked_transcript(with_linked_chapters(episode))
            curated = apply_override(shown, resolved.get(episode.id), topic_rank)
            if curated is None or (source.include == "topics" and not curated.topics):
                continue
            episodes.append(curated)
    show_images = {podcast.slug: podcast.image for podcast in podcasts}
    # An undated episode never heads "Latest": after every dated one, by when it was first seen.
    visible = within_budget(sorted(merge_across_feeds(episodes, show_images), key=newest_first_key))
    dated = [e.published for e in visible if not date_unknown(e)]
    return Catalog(
        site=config.site,
        topics=config.topics,
        podcasts=tuple(sorted(podcasts, key=lambda p: (p.title.casefold(), p.slug))),
        episodes=tuple(visible),
        health=tuple(_with_page_slugs(health, state)),
        built_at=max(dated or (e.published for e in visible), default=None),
    )


def _as_configured(podcast: Podcast, source: FeedSource) -> Podcast:
    """feeds.yaml wins over what the feed said last time (its title, include, weight)."""
    return replace(
        podcast,
        title=source.title or podcast.title,
        feed_url=source.url,
        include=source.include,
        weight=source.weight,
    )


def _with_page_slugs(health: Sequence[FeedHealth], state: ArchiveState) -> Iterator[FeedHealth]:
    """Each feed's health under its podcast's slug (the health page links there), not under
    the feed's key."""
    slugs = {feed_key(record.podcast): record.podcast.slug for record in state.podcasts}
    for item in health:
        slug = slugs.get(item.slug, item.slug)
        yield item if slug == item.slug else replace(item, slug=slug)
