"""The static site: jinja2 pages from the Catalog, Markdown pages from content/."""

from __future__ import annotations
