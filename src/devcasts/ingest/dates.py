"""Dates, durations, numbers and flags as feeds write them -> typed values, or None.

Pure functions that never raise: a value they cannot read is None, and the caller decides.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from devcasts.util.episode_dates import MAX_OFFSET_MINUTES, is_placeholder

# Zone names seen in feeds. Ambiguous ones take their most common podcast-world meaning.
_ZONE_OFFSETS_MINUTES = {
    "UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0,
    "BST": 60, "IST": 330, "CET": 60, "MET": 60, "MEZ": 60, "WEST": 60,
    "CEST": 120, "MEST": 120, "MESZ": 120, "EET": 120, "SAST": 120,
    "EEST": 180, "MSK": 180,
    "EST": -300, "EDT": -240, "CST": -360, "CDT": -300,
    "MST": -420, "MDT": -360, "PST": -480, "PDT": -420,
    "AKST": -540, "AKDT": -480, "HST": -600, "AST": -240, "ADT": -180,
    "NST": -210, "NDT": -150,
    "JST": 540, "KST": 540, "HKT": 480, "SGT": 480, "AWST": 480,
    "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660, "NZST": 720, "NZDT": 780,
}  # fmt: skip
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january", "jän", "janv"),
            ("feb", "february", "fév", "févr", "fev"),
            ("mar", "march", "mär", "mrz", "märz", "mars"),
            ("apr", "april", "avr"),
            ("may", "mai", "mei"),
            ("jun", "june", "juni", "juin"),
            ("jul", "july", "juli", "juil"),
            ("aug", "august", "aoû", "août"),
            ("sep", "sept", "september"),
            ("oct", "october", "okt", "oktober"),
            ("nov", "november"),
            ("dec", "december", "dez", "dezember", "déc"),
        ),
        start=1,
    )
    for name in names
}
# "[Wkd,] D Mon YYYY [HH:MM[:SS]] [zone]" with any weekday (right or wrong) ignored.
_RFC822 = re.compile(
    r"^(?:[^\d\s,]+,?\s*)?(?P<day>\d{1,2})[\s-]+(?P<month>[^\W\d_]+)\.?[\s-]+(?P<year>\d{2,4})"
    r"(?:[\sT]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?)?"
    r"\s*(?P<zone>[A-Za-z]{1,5}(?:\s*[+-]\s*\d{1,2}(?::?\d{2})?)?|[+-]\d{2}:?\d{2}|[+-]\d{1,2})?"
    r"(?:\s*\([^)]*\))?\s*$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_SLASH_DATE = re.compile(
    r"^(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})"
    r"(?:\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?$"
)
_OFFSET = re.compile(r"^(?P<sign>[+-])\s*(?P<hours>\d{1,2}):?(?P<minutes>\d{2})?$")
_MAX_DATE_CHARS = 80


@dataclass(frozen=True, slots=True)
class WrittenDate:
    """A feed's date: the moment in UTC, and the publisher's offset when the feed wrote one."""

    utc: datetime
    offset: int | None = None  # minutes east of UTC ("+0100" -> 60); None: no zone written

    @property
    def placeholder(self) -> bool:
        """The Unix epoch, "1900-01-01" and such: a default, not a publication date."""
        return is_placeholder(self.utc)


def parse_date(raw: str) -> datetime | None:
    """A date as feeds write it (RFC 822 and its variants, ISO 8601) -> aware UTC, or None."""
    written = parse_written_date(raw)
    return written.utc if written else None


def parse_written_date(raw: str) -> WrittenDate | None:
    """A date as feeds write it -> the moment in UTC with the offset it was written in."""
    text = " ".join(raw.split())[:_MAX_DATE_CHARS]
    if not text:
        return None
    if _ISO_DATE.match(text):
        return _parse_iso(text)
    slashed = _SLASH_DATE.match(text)
    if slashed:
        return _from_slashed(slashed)
    match = _RFC822.match(text)
    return _from_rfc822(match) if match else None


def _parse_iso(text: str) -> WrittenDate | None:
    candidate = text.replace(" ", "T", 1) if " " in text[:11] else text
    candidate = re.sub(r"\s+", "", candidate)
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    offset = _minutes(value.utcoffset()) if value.tzinfo is not None else None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return _written(value, offset)


def _minutes(delta: timedelta | None) -> int | None:
    if delta is None:
        return None
    return round(delta.total_seconds() / 60)


def _from_slashed(match: re.Match[str]) -> WrittenDate | None:
    """ "2020/1/10 14:16:00": year first, no zone (read as UTC)."""
    try:
        value = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            min(int(match["second"] or 0), 59),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return _written(value, None)


def _from_rfc822(match: re.Match[str]) -> WrittenDate | None:
    month = _MONTHS.get(match["month"].lower())
    zone = match["zone"] or ""
    offset = _zone_offset(zone)
    if month is None or offset is None:
        return None
    year = int(match["year"])
    if year < 100:  # RFC 822 two-digit years: 00-49 -> 2000s, 50-99 -> 1900s
        year += 2000 if year < 50 else 1900
    try:
        local = datetime(
            year,
            month,
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            min(int(match["second"] or 0), 59),  # leap seconds
            tzinfo=UTC,
        )
    except ValueError:
        return None
    return _written(local - timedelta(minutes=offset), offset if zone.strip() else None)


def _zone_offset(zone: str) -> int | None:
    """Minutes east of UTC for "PST", "+0100", "-05:00", "GMT+2"; 0 when absent; None if unknown."""
    zone = zone.strip().upper()
    if not zone:
        return 0
    name = zone.rstrip("0123456789:+- ")
    if name and name == zone:
        return _ZONE_OFFSETS_MINUTES.get(name)
    base = _ZONE_OFFSETS_MINUTES.get(name) if name else 0
    match = _OFFSET.match(zone[len(name) :].strip())
    if base is None or match is None:
        return None
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    if hours > 14 or minutes > 59:
        return None
    sign = -1 if match["sign"] == "-" else 1
    return base + sign * (hours * 60 + minutes)


def _written(value: datetime, offset: int | None) -> WrittenDate | None:
    """In UTC, within the years a feed can mean; an offset no zone has is dropped."""
    try:
        converted = value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    if not 1900 <= converted.year <= 9999:
        return None
    if offset is not None and abs(offset) >= MAX_OFFSET_MINUTES:
        offset = None
    return WrittenDate(converted, offset)


# --- durations ------------------------------------------------------------------------------

MAX_DURATION = 7 * 24 * 3600  # a week: longer "durations" are garbage (often bytes or ms)
_CLOCK = re.compile(r"^(?:(\d{1,3}):)?(\d{1,5}):(\d{1,2})(?:[.,]\d+)?$")
_UNITS = re.compile(
    r"^(?:(\d{1,3})\s*h(?:ours?|rs?)?)?\s*(?:(\d{1,4})\s*m(?:in(?:utes?|s)?)?)?"
    r"\s*(?:(\d{1,6})\s*s(?:ec(?:onds?|s)?)?)?$",
    re.IGNORECASE,
)
_SECONDS = re.compile(r"^\d{1,9}(?:[.,]\d+)?$")


def parse_duration(raw: str) -> int | None:
    """Seconds from any itunes:duration form: "1:02:03", "62:03", "3723", "3723.5", "1h2m"."""
    text = raw.strip()[:40]
    if not text:
        return None
    seconds = _clock_seconds(text)
    if seconds is None:
        seconds = _unit_seconds(text)
    if seconds is None and _SECONDS.match(text):
        seconds = math.floor(float(text.replace(",", ".")) + 0.5)
    if seconds is None or not 0 < seconds <= MAX_DURATION:
        return None
    return seconds


def _clock_seconds(text: str) -> int | None:
    match = _CLOCK.match(text)
    if not match:
        return None
    hours, minutes, seconds = int(match[1] or 0), int(match[2]), int(match[3])
    if seconds >= 60:  # minutes may overflow ("00:60:05"): they still add up
        return None
    return hours * 3600 + minutes * 60 + seconds


def _unit_seconds(text: str) -> int | None:
    match = _UNITS.match(text)
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


# --- numbers and flags ----------------------------------------------------------------------

MAX_NUMBER = 1_000_000
_NUMBER = re.compile(r"^#?\s*(\d{1,7})(?:\.0+)?$")


def parse_number(raw: str) -> int | None:
    """An episode or season number: a non-negative integer ("12", "#12", "12.0"), else None."""
    match = _NUMBER.match(raw.strip())
    if not match:
        return None
    number = int(match[1])
    return number if number <= MAX_NUMBER else None


_TRUE_WORDS = frozenset({"yes", "true", "explicit", "1"})
_FALSE_WORDS = frozenset({"no", "false", "clean", "0"})


def parse_explicit(raw: str) -> bool | None:
    """itunes:explicit: "yes" / "true" / "explicit" -> True, "clean" / "no" / "false" -> False."""
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return None
