"""The query mixes the search benchmarks time: everyday queries, and the same with half of
them replaced by pairs of words that each occur in most episodes (the queries that match
nearly everything, the costliest to rank)."""

from __future__ import annotations

import random

EVERYDAY = [
    "heroku",
    "postgres failover",
    "kubernetes autoscaling",
    "cold starts",
    "fly.io",
    "preview environments",
    "Ana Okafor",
    "build caches",
    "secrets",
    "edge functions vercel",
    "observability",
    '"zero-downtime deploys"',
    "netlify OR vercel",
    "docker NOT kubernetes",
    "migrations",
    "cron",
    "feature flags",
    "railway",
    "dokku",
    "cost controls",
]


def everyday(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(EVERYDAY) for _ in range(count)]


def pairs(words: list[str], count: int, seed: int = 7) -> list[str]:
    """`count` queries of two different words from `words`."""
    rng = random.Random(seed)
    return [" ".join(rng.sample(words, 2)) for _ in range(count)]


def half_broad(everyday_queries: list[str], broad: list[str]) -> list[str]:
    """The everyday queries' first half interleaved with the broad pairs."""
    half = everyday_queries[: len(broad)]
    return [query for pair in zip(half, broad, strict=True) for query in pair]
