"""An episode's summary: the first sentences of its notes a person would have written.

Notes often open with something else: a "Show Notes" heading, the episode's title again, a
"Direct link to the mp3 file", a list of links, a producer credit list. Those lines are skipped;
when the notes opened with them, the feed's itunes:subtitle is used instead if it is a real
sentence. Sponsor and affiliate blocks end the part a summary is taken from. Lines are joined
as sentences, so a heading keeps its break from the paragraph under it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from devcasts.ingest.blocks import Block, blocks
from devcasts.ingest.sanitize import clean_text, notes_summary, summarize

__all__ = ["episode_summary", "is_real_sentence"]

# How much of the notes' lead a summary is picked from (a summary is about 300 characters).
_LEAD_CHARS = 1500
_HEADING_CHARS = 100  # a line this short without an end mark reads as a heading

# "Show Notes", "Shownotes", "Links & Show Notes", "ShowNotes Archive of links..."
_SHOW_NOTES = re.compile(r"(?:links?\s*(?:&|and|\+)\s*)?show\s*-?\s*notes\b", re.IGNORECASE)
_BOILERPLATE_LINE = re.compile(
    r"(?:direct\s*\[?\s*link\s*\]?\s*to the (?:mp3|audio)|download the (?:mp3|audio|episode)"
    r"|listen (?:to|on) (?:this episode|apple|spotify))",
    re.IGNORECASE,
)
# "Executive Producers:", "Associate Executive Producers:", "Special thanks to this
# episode's producers: ...", "Credits:"
_CREDITS = re.compile(
    r"(?:[^.!?:]{0,40}\s)?(?:special thanks to (?:this|the|our) episode'?s?\s+)?"
    r"(?:(?:associate|executive|co-?)\s*)*(?:producers?|credits)\b[^.!?]{0,40}:",
    re.IGNORECASE,
)
# Where the part a summary is taken from ends: "Sponsored By:", "Sponsors:", "This episode is
# sponsored by", "Affiliate links", "Hosted on Acast. See acast.com/privacy"
_SPONSOR = re.compile(
    r"(?:(?:this (?:episode|show|week) (?:is |was )?)?sponsored by\b|\bsponsors?\s*:"
    r"|\baffiliate links?\b|^(?:this (?:episode|show) )?(?:is )?brought to you by\b"
    r"|\bsupport (?:for )?(?:this|the) (?:show|episode|podcast) comes from\b"
    r"|\bhosted on \w+\. see\b)",
    re.IGNORECASE,
)
_UNMARKED_END = re.compile(r"[^\W_][\"'”’)]?$")  # a letter or digit, maybe closed by a quote
_STAMP_START = re.compile(r"\s*(?:[-*•·–—>]\s*)?[(\[{]?\d{1,3}:\d{2}")  # a chapter line
_SENTENCE_LIKE = re.compile(r"[.!?…][\"'”’)]*(?:\s|$)")
# "Episode 57:", "378 -", "#12.", "Ep. 3 |": the number a title starts with
_TITLE_NUMBER = re.compile(
    r"^\s*(?:(?:episode|ep\.?|folge|#)\s*)?\d+\s*[:.\-–—|]\s*", re.IGNORECASE
)
_QUOTES = "\"'“”„‘’«» "


def episode_summary(notes_html: str, title: str, subtitle: str = "", limit: int = 300) -> str:
    """The card summary: the notes' own lead, without boilerplate, else a real subtitle."""
    lead, opened_with_boilerplate = _lead_lines(blocks(notes_html), title)
    summary = notes_summary("\n".join(_as_sentences(lead)), limit)
    usable_subtitle = clean_text(subtitle, limit * 2)
    if (opened_with_boilerplate or not summary) and is_real_sentence(usable_subtitle, title):
        return summarize(usable_subtitle, limit)
    return summary


def is_real_sentence(text: str, title: str = "") -> bool:
    """Prose a person wrote: several words, some of them lowercase, and not just the title."""
    words = text.split()
    if _title_core(text).rstrip(_QUOTES + ".!?:") in _title_forms(title):
        return False
    if len(words) < 5:  # one long word is prose in scripts written without spaces
        return len(words) == 1 and len(text) >= 20 and not text.isascii()
    return sum(1 for word in words if word[:1].islower()) >= 2


def _lead_lines(found: Iterable[Block], title: str) -> tuple[list[str], bool]:
    """The lines a summary may use, and whether boilerplate came before them.

    A short line that reads as a heading waits for the line after it: over a list of links
    ("Our socials") it goes with the links. Links after the lead end it.
    """
    titles = _title_forms(title)
    lead: list[str] = []
    heading = ""
    skipped = False
    in_credits = False
    for block in found:
        text = block.text
        sponsor = _sponsor_block(text)
        if sponsor is not None:
            before = text[: sponsor.start()].strip()
            if before:
                lead += [heading, before] if heading else [before]
                heading = ""
            break
        if _CREDITS.match(text):
            in_credits = text.endswith(":")  # the names follow, one a line
        elif not (in_credits and _is_credit_line(text)):
            in_credits = False
            if block.link_only and lead:
                heading = ""  # it heads the links
                break  # a list of links after the lead: the rest is no summary
            if block.link_only or (not lead and _is_opening_boilerplate(block, titles)):
                heading = ""
            elif _is_heading(text) and not heading:
                heading = text
                continue
            else:
                lead += [heading, text] if heading else [text]
                heading = ""
                if sum(map(len, lead)) > _LEAD_CHARS:
                    break
                continue
        skipped = skipped or not lead
    if heading:  # the last line before the end or a sponsor block
        lead.append(heading)
    while lead and lead[-1].endswith(":"):  # "Links:" with its links left out
        lead.pop()
    return lead, skipped


def _is_heading(text: str) -> bool:
    return len(text) <= _HEADING_CHARS // 2 and _ends_unmarked(text)


def _is_opening_boilerplate(block: Block, titles: set[str]) -> bool:
    text = block.text
    if not _SENTENCE_LIKE.search(text) and (
        _SHOW_NOTES.match(text) or (block.link_chars and len(text) <= _HEADING_CHARS)
    ):
        return True  # "Show Notes", "Sign up for the newsletter", "RSS feed"
    if _BOILERPLATE_LINE.search(text) and len(text) < 2 * _HEADING_CHARS:
        return True
    return _repeats_title(text, titles)


def _repeats_title(text: str, titles: set[str]) -> bool:
    """A heading that ends with the title again: ""Name"", "Our Show Episode 12 - "Name"",
    "Episode 12: Name". What comes before the title is nothing, or ends in a number or a
    separator; a sentence that happens to end with the title's words is no heading."""
    core = _title_core(text).rstrip(_QUOTES + ".!?:")
    if len(text) > _HEADING_CHARS + 40 or _SENTENCE_LIKE.search(core):
        return False
    for form in titles:
        if core.endswith(form):
            before = core[: len(core) - len(form)].rstrip(_QUOTES)
            if not before or before[-1].isdigit() or before[-1] in _SEPARATORS:
                return True
    return False


_SEPARATORS = ":-–—|#/"


def _is_credit_line(text: str) -> bool:
    """A line of a credit list: a name or two, a title ("Sir Nils of the Harbour.")."""
    return len(text) <= 80 and len(text.split()) <= 12


def _title_forms(title: str) -> set[str]:
    """The title as compared with a line: whole, and without its episode number."""
    whole = _title_core(title).rstrip(_QUOTES + ".!?:")
    bare = _title_core(_TITLE_NUMBER.sub("", title)).rstrip(_QUOTES + ".!?:")
    return {form for form in (whole, bare) if len(form) >= 3}


def _title_core(text: str) -> str:
    return " ".join(text.casefold().replace("’", "'").split()).strip(_QUOTES)


def _as_sentences(lines: list[str]) -> list[str]:
    """Lines that end without a mark get a full stop when another line follows: a heading and
    its paragraph read "Heading. The paragraph", not "Heading The paragraph"."""
    shaped: list[str] = []
    for index, line in enumerate(lines):
        last = index == len(lines) - 1
        if not last and _ends_unmarked(line) and not _STAMP_START.match(lines[index + 1]):
            line += "."
        shaped.append(line)
    return shaped


def _ends_unmarked(line: str) -> bool:
    return _UNMARKED_END.search(line[-2:]) is not None  # the pattern reads two characters


# Words every _SPONSOR alternative holds: a line without any of them is read no further.
_SPONSOR_WORDS = ("sponsor", "affiliate", "brought to you", "support", "hosted on")


def _sponsor_block(text: str) -> re.Match[str] | None:
    """Where a sponsor or affiliate block starts in the line, if it does."""
    folded = text.casefold()
    if not any(word in folded for word in _SPONSOR_WORDS):
        return None
    return _SPONSOR.search(text)
