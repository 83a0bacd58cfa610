"""The filters templates use: dates, durations, language tags, printable text. Pure functions."""

from __future__ import annotations

import re
from datetime import date, datetime

from markupsafe import Markup

from devcasts.records import Episode
from devcasts.util.episode_dates import date_unknown, publisher_time

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Code points HTML forbids even as text (C0 and C1 controls, noncharacters): feeds do carry them.
_FORBIDDEN_IN_HTML = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def printable(value: object) -> object:
    """Every {{ value }} without the code points HTML forbids; markup stays markup."""
    if not isinstance(value, str) or (value.isascii() and value.isprintable()):
        return value  # printable ASCII (most of a page's values): nothing to look for
    if _FORBIDDEN_IN_HTML.search(value):
        cleaned = _FORBIDDEN_IN_HTML.sub("", value)
        return Markup(cleaned) if isinstance(value, Markup) else cleaned  # noqa: S704 -- was markup
    return value


def foreign_language(value: str | None, site_language: str) -> str | None:
    """A valid lang attribute ("pt-BR") when the text is not in the site's language, else None."""
    tag = (value or "").strip()
    if not _LANGUAGE_TAG.fullmatch(tag):
        return None
    primary = tag.split("-")[0].lower()
    return None if primary == site_language.split("-")[0].lower() else tag


def human_date(moment: datetime) -> str:
    """ "3 Feb 2025": English month names whatever the machine's locale."""
    return f"{moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def date_span(first: date, last: date) -> str:
    """A stretch of dates as a reader names it, precise enough to tell pages apart:
    "3 Feb 2025", "3–17 Feb 2025", "Jan–Mar 2025", "Nov 2024 – Feb 2025"."""
    first_month, last_month = _MONTHS[first.month - 1], _MONTHS[last.month - 1]
    if first.year != last.year:
        return f"{first_month} {first.year} – {last_month} {last.year}"
    if first.month != last.month:
        return f"{first_month}–{last_month} {last.year}"
    if first.day != last.day:
        return f"{first.day}–{last.day} {last_month} {last.year}"
    return f"{last.day} {last_month} {last.year}"


def published_on(episode: Episode) -> datetime | None:
    """When the episode came out on its publisher's clock (its day is the day to show), or
    None when the feed gave no date: the page says "date unknown" rather than guess."""
    return None if date_unknown(episode) else publisher_time(episode)


def human_duration(seconds: int | None) -> str:
    if not seconds or seconds < 0:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{max(minutes, 1)} min"


def clock(seconds: float) -> str:
    """Chapter start times: 4:05, 1:02:03."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_MEDIA_LABELS = {
    "text/vtt": "WebVTT",
    "application/srt": "SRT",
    "application/x-subrip": "SRT",
    "text/srt": "SRT",
    "text/html": "web page",
    "text/plain": "text",
    "application/json": "JSON",
    "application/pdf": "PDF",
}


def media_label(mime_type: str | None) -> str:
    """A reader's name for a transcript's MIME type: "WebVTT" for text/vtt."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    return _MEDIA_LABELS.get(mime, mime)
