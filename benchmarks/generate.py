"""Deterministic synthetic podcast feeds for the benchmark: N feeds by M episodes.

Each episode has realistic HTML show notes of about 1.5 KB: paragraphs naming developer
platforms, a chapter list of timestamps, and links carrying tracking parameters. The same
arguments always give byte-identical files.

    python benchmarks/generate.py OUT_DIR --feeds 200 --episodes 100
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

PLATFORMS = [
    "Heroku",
    "Fly.io",
    "Render",
    "Railway",
    "Vercel",
    "Netlify",
    "Kubernetes",
    "Dokku",
    "AWS",
    "Google Cloud",
    "Azure",
    "Cloudflare Workers",
    "DigitalOcean",
    "Supabase",
    "Docker",
]
SUBJECTS = [
    "zero-downtime deploys",
    "Postgres failover",
    "preview environments",
    "cold starts",
    "autoscaling",
    "build caches",
    "secrets management",
    "edge functions",
    "observability",
    "cost controls",
    "blue-green releases",
    "database migrations",
    "multi-region traffic",
    "container images",
    "on-call runbooks",
    "feature flags",
    "queue workers",
    "cron jobs",
]
VERBS = ["Moving", "Scaling", "Debugging", "Running", "Securing", "Measuring", "Rethinking"]
FIRST = ["Ana", "Ben", "Chloe", "Dev", "Emeka", "Farah", "Goran", "Hana", "Ivan", "Jun", "Kofi"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Kim", "Byrne"]
CHAPTERS = [
    "Introduction",
    "How the team got here",
    "The first outage",
    "What we measured",
    "Trade-offs",
    "Tooling we built",
    "Listener questions",
    "Wrap-up",
]
FILLER = (
    "We talk through what broke, what we measured before and after, and which defaults we "
    "would change if we started again. The conversation covers the day-to-day of running "
    "services for paying customers, the alerts that woke people up, and the small scripts "
    "that quietly saved hours every week."
)


def episode_notes(rng: random.Random, platform: str, subject: str, guest: str) -> str:
    other = rng.choice([p for p in PLATFORMS if p != platform])
    minutes = sorted(rng.sample(range(1, 58), 5))
    chapters = "<br>".join(
        f"({m:02d}:{rng.randrange(60):02d}) {title}"
        for m, title in zip([0, *minutes], rng.sample(CHAPTERS, 6), strict=False)
    )
    links = "".join(
        f'<li><a href="https://{host}/{rng.randrange(10**6)}?utm_source=podcast&amp;'
        f'utm_medium=notes&amp;ref=show">{escape(text)}</a></li>'
        for host, text in [
            ("docs.example.com", f"{platform} documentation"),
            ("blog.example.org", f"{guest}'s write-up on {subject}"),
            ("github.com/example", "The sample repository"),
        ]
    )
    return (
        f"<p>{escape(guest)} joins us to talk about {escape(subject)} on {escape(platform)}, "
        f"and why the team compared it with {escape(other)} before committing.</p>"
        f"<p>{FILLER}</p><p>{chapters}</p><h3>Links</h3><ul>{links}</ul>"
        f"<p>{FILLER[:300]}</p>"
        f"<h3>About the guest</h3><p>{escape(guest)} has spent years on platform teams, "
        f"most recently moving {escape(subject)} onto {escape(other)}, and writes about "
        "incident reviews, capacity planning and the habits that keep a release train on "
        "time. Find them on the fediverse and at conferences across the year.</p>"
    )


def feed_xml(index: int, episodes: int, seed: int, extra: int = 0) -> str:
    """One feed; `extra` adds that many newer episodes on top (for the one-new-episode run)."""
    rng = random.Random(f"{seed}-{index}")
    platform = PLATFORMS[index % len(PLATFORMS)]
    title = f"{rng.choice(VERBS)} {platform} Weekly {index}"
    start = datetime(2020, 1, 6, 9, tzinfo=UTC) + timedelta(hours=index)
    items = []
    for n in range(episodes + extra):
        ep_rng = random.Random(f"{seed}-{index}-{n}")
        subject = ep_rng.choice(SUBJECTS)
        guest = f"{ep_rng.choice(FIRST)} {ep_rng.choice(LAST)}"
        ep_platform = ep_rng.choice([platform, platform, *PLATFORMS])
        published = start + timedelta(days=7 * n)
        notes = episode_notes(ep_rng, ep_platform, subject, guest)
        items.append(
            f"""  <item>
    <title>{escape(f"{ep_rng.choice(VERBS)} {subject} on {ep_platform} with {guest}")}</title>
    <guid isPermaLink="false">bench-{index}-{n}</guid>
    <link>https://show{index}.example.com/episodes/{n}</link>
    <pubDate>{format_datetime(published)}</pubDate>
    <itunes:duration>{ep_rng.randrange(1200, 4200)}</itunes:duration>
    <itunes:episode>{n + 1}</itunes:episode>
    <itunes:author>{escape(guest)}</itunes:author>
    <enclosure url="https://media.example.com/show{index}/{n}.mp3" type="audio/mpeg" length="{ep_rng.randrange(10**7, 10**8)}"/>
    <description><![CDATA[{notes}]]></description>
  </item>"""
        )
    items.reverse()  # newest first, as feeds usually are
    body = "\n".join(items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel>
  <title>{escape(title)}</title>
  <link>https://show{index}.example.com/</link>
  <description>A weekly show about {escape(platform)} and running software in production.</description>
  <language>en</language>
  <itunes:author>Show {index} hosts</itunes:author>
  <itunes:category text="Technology"/>
{body}
</channel>
</rss>
"""


def generate(out_dir: Path, feeds: int, episodes: int, seed: int = 1) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(feeds):
        path = out_dir / f"show{index:03d}.xml"
        data = feed_xml(index, episodes, seed).encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    paths = generate(args.out_dir, args.feeds, args.episodes, args.seed)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} feeds, {size / 1e6:.1f} MB in {args.out_dir}")


if __name__ == "__main__":
    main()
