"""dates: dates, durations, numbers and flags as feeds write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devcasts.ingest.dates import (
    MAX_DURATION,
    parse_date,
    parse_duration,
    parse_explicit,
    parse_number,
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Wed, 03 Aug 2005 18:00:00 GMT", utc(2005, 8, 3, 18)),
        ("Wed, 03 Aug 2005 18:00:00 +0000", utc(2005, 8, 3, 18)),
        ("Thu, 01 Jan 1970 00:00:00 -0000", utc(1970, 1, 1)),
        ("Sun, 6 Sep 2015 12:00:00 +0200", utc(2015, 9, 6, 10)),  # unpadded day
        ("13 Feb 2015 13:35:15 GMT", utc(2015, 2, 13, 13, 35, 15)),  # no weekday
        ("Mon, 13 Feb 2015 13:35:15 GMT", utc(2015, 2, 13, 13, 35, 15)),  # wrong weekday
        ("07 Nov 2015 12:00:00 EST", utc(2015, 11, 7, 17)),
        ("Fri, 06 Sep 2019 12:00:00 PST", utc(2019, 9, 6, 20)),  # PST even in summer
        ("Fri, 06 Sep 2019 12:00:00 PDT", utc(2019, 9, 6, 19)),
        ("Tue, 10 Jun 2003 04:00:00 CEST", utc(2003, 6, 10, 2)),
        ("Tue, 10 Dec 2003 04:00:00 CET", utc(2003, 12, 10, 3)),
        ("Tue, 10 Jun 2003 04:00 -05:00", utc(2003, 6, 10, 9)),  # no seconds, colon offset
        ("Mon, 1 January 2024 10:00:00 GMT+2", utc(2024, 1, 1, 8)),  # full month name
        ("1 jan 24 10:00:00 GMT", utc(2024, 1, 1, 10)),  # two-digit year
        ("Wed, 02 Oct 2002 08:00:00 EST (Eastern)", utc(2002, 10, 2, 13)),
        ("Di, 05 Mär 2024 10:00:00 +0100", utc(2024, 3, 5, 9)),  # German names
        ("Wed, 03 Aug 2005", utc(2005, 8, 3)),  # date only
        ("  Wed,  03   Aug 2005 18:00:00 GMT  ", utc(2005, 8, 3, 18)),  # stray whitespace
        ("2024-10-29T10:00:00Z", utc(2024, 10, 29, 10)),
        ("2024-10-29T10:00:00.250+02:00", utc(2024, 10, 29, 8, 0, 0) + timedelta(seconds=0.25)),
        ("2024-10-29 10:00:00", utc(2024, 10, 29, 10)),
        ("2024-10-29", utc(2024, 10, 29)),
        ("2020/1/10 14:16:00", utc(2020, 1, 10, 14, 16)),
    ],
)
def test_dates(raw: str, expected: datetime) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "garbage", "sometime last spring", "31 Feb 2020 10:00:00 GMT", "2024-13-01",
     "Wed, 03 Foo 2005 18:00:00 GMT", "Wed, 03 Aug 2005 18:00:00 XYZ", "Wed, 03 Aug 2005 99:00"],
)  # fmt: skip
def test_unreadable_dates_are_none(raw: str) -> None:
    assert parse_date(raw) is None


def test_leap_second_is_read_as_59() -> None:
    assert parse_date("Sat, 31 Dec 2016 23:59:60 GMT") == utc(2016, 12, 31, 23, 59, 59)


_DATETIMES = st.datetimes(
    min_value=datetime(1901, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.just(UTC)
).map(lambda value: value.replace(microsecond=0))
_OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@given(st.text(max_size=120))
def test_parse_date_never_raises_and_returns_aware_utc(raw: str) -> None:
    value = parse_date(raw)
    assert value is None or value.utcoffset() == timedelta(0)


@given(_DATETIMES, _OFFSETS)
def test_rfc822_round_trip(moment: datetime, zone: timezone) -> None:
    written = format_datetime(moment.astimezone(zone))
    assert parse_date(written) == moment


@given(_DATETIMES, _OFFSETS)
def test_iso8601_round_trip(moment: datetime, zone: timezone) -> None:
    assert parse_date(moment.astimezone(zone).isoformat()) == moment


@given(_DATETIMES)
def test_parsing_a_parsed_date_again_gives_the_same(moment: datetime) -> None:
    first = parse_date(format_datetime(moment))
    assert first is not None
    assert parse_date(first.isoformat()) == first


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1:02:03", 3723), ("01:02:03", 3723), ("62:03", 3723), ("3723", 3723),
        ("3723.5", 3724), ("3723,4", 3723), ("1h2m", 3720), ("1h 2m 3s", 3723),
        ("1 hour 2 minutes", 3720), ("45 min", 2700), ("90s", 90), ("00:45", 45),
        ("01:02:03.400", 3723), ("00:60:05", 3605), (" 12:00 ", 720), ("1:2:3", 3723),
    ],
)  # fmt: skip
def test_durations(raw: str, expected: int) -> None:
    assert parse_duration(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "garbage", "-5", "0", "00:00", "1:75", "12:", ":30", "99999999", "1h2x", "NaN"]
)
def test_unreadable_durations_are_none(raw: str) -> None:
    assert parse_duration(raw) is None


@given(st.text(max_size=40))
def test_parse_duration_never_raises_and_is_bounded(raw: str) -> None:
    seconds = parse_duration(raw)
    assert seconds is None or 0 < seconds <= MAX_DURATION


@given(st.integers(min_value=1, max_value=MAX_DURATION))
def test_clock_and_seconds_forms_agree(seconds: int) -> None:
    hours, rest = divmod(seconds, 3600)
    clock = f"{hours}:{rest // 60:02d}:{rest % 60:02d}"
    assert parse_duration(clock) == seconds
    assert parse_duration(str(seconds)) == seconds
    assert parse_duration(f"{hours * 60 + rest // 60}:{rest % 60:02d}") == seconds


@given(st.text(max_size=40))
def test_duration_is_idempotent(raw: str) -> None:
    seconds = parse_duration(raw)
    if seconds is not None:
        assert parse_duration(str(seconds)) == seconds


# --- numbers and flags ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (" 7 ", 7), ("0", 0), ("#3", 3), ("12.0", 12), ("-1", None), ("E12", None),
     ("", None), ("1.5", None), ("99999999", None)],
)  # fmt: skip
def test_numbers(raw: str, expected: int | None) -> None:
    assert parse_number(raw) == expected


@given(st.text(max_size=20))
def test_parse_number_never_raises(raw: str) -> None:
    number = parse_number(raw)
    assert number is None or number >= 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("yes", True), ("True", True), ("explicit", True), (" YES ", True), ("clean", False),
     ("no", False), ("false", False), ("", None), ("maybe", None)],
)  # fmt: skip
def test_explicit(raw: str, expected: bool | None) -> None:
    assert parse_explicit(raw) is expected
