"""Which transcript formats the site reads, from a podcast:transcript's MIME type or else its
URL's extension: ingest/transcript_files.py reads them, archive/linked_transcripts.py picks
one of an episode's transcripts by them."""

from __future__ import annotations

from typing import Literal

__all__ = ["TranscriptFormat", "transcript_format"]

TranscriptFormat = Literal["vtt", "srt", "json", "html", "text"]

# MIME types as feeds write them (and the types ingest/fields.media_type guesses).
_TYPES: dict[str, TranscriptFormat] = {
    "text/vtt": "vtt",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
    "application/x-srt": "srt",
    "text/x-srt": "srt",
    "application/json": "json",
    "application/json+transcript": "json",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
}
_EXTENSIONS: dict[str, TranscriptFormat] = {
    "vtt": "vtt",
    "srt": "srt",
    "json": "json",
    "html": "html",
    "htm": "html",
    "txt": "text",
}


def transcript_format(mime: str, url: str = "") -> TranscriptFormat | None:
    """The format a podcast:transcript's type (or else its URL's extension) names; None for
    one this site does not read."""
    base = mime.split(";", 1)[0].strip().lower()
    if base in _TYPES:
        return _TYPES[base]
    path = url.split("?", 1)[0].split("#", 1)[0]
    extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    return _EXTENSIONS.get(extension)
