"""A build killed with SIGKILL at any moment leaves the previous site and archive intact."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from devcasts.archive.files import load_archive
from devcasts.site.writer import recover_site

SRC = Path(__file__).resolve().parents[1] / "src"
PAGES = 400  # half of them change every generation, half never do
PODCASTS = 6
EPISODES = 100

# Writes generation after generation of a site and an archive, the way a build does: the next
# generation follows from the archive; the site goes through a transaction, then the archive.
BUILDER = f"""
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from devcasts.archive.files import load_archive, save_archive
from devcasts.archive.state import ArchiveState, PodcastArchive
from devcasts.records import Episode, Podcast
from devcasts.site.writer import site_transaction

root, runs = Path(sys.argv[1]), int(sys.argv[2])
site, content = root / "site", root / "content"
start = datetime(2024, 1, 1, tzinfo=UTC)

def current() -> int:
    # The oldest generation in the archive: the next build redoes what a kill cut short.
    titles = [record.podcast.title for record in load_archive(content).podcasts]
    return min((int(title.rsplit(" ", 1)[1]) for title in titles), default=0)

def archive(gen: int) -> ArchiveState:
    records = []
    for p in range({PODCASTS}):
        slug = f"show-{{p}}"
        podcast = Podcast(slug=slug, title=f"Show {{p}} gen {{gen}}", feed_url="feed.xml")
        episodes = tuple(
            Episode(id=f"{{slug}}-{{e:04d}}", podcast=slug, guid=str(e),
                    title=f"gen {{gen}} episode {{e}}", published=start + timedelta(days=e),
                    notes_html="<p>" + "words " * 40 + "</p>", slug=f"episode-{{e}}",
                    first_seen=start, last_seen=start)
            for e in range({EPISODES})
        )
        records.append(PodcastArchive(podcast, episodes))
    return ArchiveState(tuple(records))

done = 0
while runs == 0 or done < runs:
    gen = current() + 1
    with site_transaction(site) as writer:
        for i in range({PAGES}):
            changing = i % 2 == 0
            text = f"gen {{gen}} page {{i}}\\n" if changing else f"static page {{i}}\\n"
            writer.write_text(f"pages/{{i % 25}}/{{i}}.html", text * 30)
        writer.write_text("generation.txt", str(gen))
    save_archive(content, archive(gen))
    done += 1
    print(gen, flush=True)
"""


def run_builder(root: Path, runs: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", BUILDER, str(root), str(runs)],
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        text=True,
    )


def site_generation(site: Path) -> int:
    """The site's generation, after checking every page belongs to it."""
    generation = int((site / "generation.txt").read_text())
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == PAGES
    for page in pages:
        number = int(page.stem)
        expected = f"gen {generation} page {number}" if number % 2 == 0 else f"static page {number}"
        assert page.read_text() == f"{expected}\n" * 30, page
    assert not any(p.name.endswith(".tmp") for p in site.rglob("*"))
    return generation


def archive_generations(content: Path) -> set[int]:
    """Each podcast file loads cleanly and is wholly of one generation."""
    state = load_archive(content)
    assert len(state.podcasts) == PODCASTS
    generations: set[int] = set()
    for record in state.podcasts:
        assert len(record.episodes) == EPISODES
        found = {int(re.match(r"gen (\d+)", e.title).group(1)) for e in record.episodes}  # type: ignore[union-attr]
        assert len(found) == 1, record.podcast.slug
        generations |= found
    return generations


def check_intact(root: Path) -> int:
    site = root / "site"
    # Right after the kill: a site is there, or the complete next one waits beside it.
    assert site.is_dir() or (root / "site.ready").is_dir()
    if site.is_dir() and not (root / "site.ready").is_dir():
        site_generation(site)
    recover_site(site)
    generation = site_generation(site)
    assert archive_generations(root / "content") <= {generation - 1, generation}
    return generation


@pytest.mark.slow
def test_sigkill_at_random_moments_never_breaks_the_site_or_archive(tmp_path: Path) -> None:
    first = run_builder(tmp_path, 1)
    assert first.wait(timeout=120) == 0
    assert check_intact(tmp_path) == 1

    seed = random.randrange(10**6)
    chooser = random.Random(seed)
    generations = [1]
    for _ in range(6):
        builder = run_builder(tmp_path, 0)
        time.sleep(chooser.uniform(0.15, 1.0))
        builder.send_signal(signal.SIGKILL)
        builder.wait(timeout=30)
        generations.append(check_intact(tmp_path))
    assert generations == sorted(generations), f"seed {seed}"

    expected = min(archive_generations(tmp_path / "content")) + 1
    last = run_builder(tmp_path, 1)
    assert last.wait(timeout=120) == 0
    assert check_intact(tmp_path) == expected
    assert archive_generations(tmp_path / "content") == {expected}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "site", "site.spare"]
