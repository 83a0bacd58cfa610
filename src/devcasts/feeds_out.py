"""The feeds devcasts publishes: RSS 2.0 podcast feeds and a JSON Feed."""

from __future__ import annotations
