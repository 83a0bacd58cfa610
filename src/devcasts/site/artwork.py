"""Covers served from the site itself: decoded safely, cut square, resized, named by content.

A feed's image URL is never shown to the browser (that would be a request to another host
before the listener asked for anything). The build fetches the image (fetch/sidecar.py),
and this module turns its bytes into small square copies, `SIZES` wide, in WebP with a JPEG
fallback, each named after a hash of the source bytes (`art_key`): the same cover keeps its
URLs from build to build, and a changed cover gets new ones.

Decoding is the risky part: the bytes are hostile. Only common still-image formats are
opened, the pixel count is checked from the header before any pixel is decoded (a
decompression bomb is refused, not allocated), a truncated file fails, and only the first
frame of an animation is used. The copies carry no metadata (no EXIF, no ICC, no comments).

Encoding is the costly part: `ArtStore` keeps each source's copies in the cache folder, so a
rebuild re-encodes nothing. Pillow is imported only when a cover has to be encoded.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devcasts.records import Catalog, Episode, Podcast
from devcasts.site import urls
from devcasts.util.atomic import replace_file

if TYPE_CHECKING:
    from PIL import Image

SIZES = (96, 192, 600)  # px, square: cards (1x), headers and cards at 2x, headers at 2x and og
FORMATS = ("webp", "jpg")
FALLBACK_FILE = "cover.png"  # the site's own cover, under static/
TOUCH_ICON_SIZE = 180  # what iOS asks for
MAX_SOURCE_BYTES = 5 * 1024 * 1024  # a cover bigger than this is not fetched whole
MAX_PIXELS = 36_000_000  # 6000 x 6000: far above any real cover, far below a bomb
MAX_SIDE = 12_000  # a 40,000 x 10 strip is no cover either
# Episode images that differ from their show's cover, for the newest episodes site-wide only:
# a listing page shows at most a few dozen episodes, so this covers the home page, every
# topic's first page and every show's newest episodes, at a bounded cost (see ART_BYTES_BUDGET).
EPISODE_IMAGES = 200
SHOW_COVERS = 1000  # every show of any real site; a bound, not a choice
# What the art/ folder may weigh, in bytes; the build summary reports the total against it.
ART_BYTES_BUDGET = 64 * 1024 * 1024
# Encoders' settings; part of the cache folder's name, so a change re-encodes.
_WEBP = {"quality": 78, "method": 4}
_JPEG = {"quality": 80, "optimize": True, "progressive": True}
_ENCODING = "v1"
_FORMATS_OPENED = ["JPEG", "PNG", "WEBP", "GIF"]  # what podcast covers are; nothing exotic


class ArtError(ValueError):
    """The bytes are not a cover we can use (not an image, too big, truncated)."""


def art_key(source: bytes) -> str:
    """The name of a source image's copies: a hash of its bytes."""
    return hashlib.sha256(source).hexdigest()[:20]


def art_files(key: str) -> list[str]:
    """The site paths of the copies of the source named `key`."""
    return [urls.art(key, size, fmt) for size in SIZES for fmt in FORMATS]


# --- decoding and encoding (pure: bytes in, bytes out) ------------------------------------

_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")


def image_problem(body: bytes) -> str | None:
    """A first look at a fetched body (an HTML error page is not kept as a cover): why it is
    no image we read, or None."""
    if body.startswith(_MAGIC) or (body[:4] == b"RIFF" and body[8:12] == b"WEBP"):
        return None
    return "not a JPEG, PNG, GIF or WebP image"


def resized_copies(source: bytes) -> dict[tuple[int, str], bytes]:
    """Every (size, format) copy of the cover in `source`; ArtError when it is unusable."""
    square = _square(decode(source))
    copies: dict[tuple[int, str], bytes] = {}
    for size in SIZES:
        image = _resize(square, size)
        copies[(size, "webp")] = _encode(image, "WEBP", _WEBP)
        copies[(size, "jpg")] = _encode(image, "JPEG", _JPEG)
    return copies


def touch_icon(source: bytes) -> bytes:
    """An apple-touch-icon (a square PNG, TOUCH_ICON_SIZE wide) made from `source`."""
    image = _resize(_square(decode(source)), TOUCH_ICON_SIZE)
    return _encode(image, "PNG", {"optimize": True})


def decode(source: bytes) -> Image.Image:
    """The first frame of the image in `source`, as RGB, checked before it is decoded."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(source) > MAX_SOURCE_BYTES:
        raise ArtError(f"larger than {MAX_SOURCE_BYTES} bytes")
    try:
        # formats=: no decoder beyond the common ones ever sees the bytes.
        image = Image.open(io.BytesIO(source), formats=_FORMATS_OPENED)
    except (UnidentifiedImageError, Image.DecompressionBombError) as error:
        raise ArtError(f"not an image we read: {error}") from None
    except (OSError, ValueError, SyntaxError) as error:  # Pillow's header parsers raise these
        raise ArtError(f"unreadable image: {error}") from None
    width, height = image.size
    if width < 1 or height < 1 or max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise ArtError(f"{width}x{height} pixels is not a cover")
    try:
        image.seek(0)  # an animation: its first frame
        if image.format == "JPEG":  # decoded at 1/2, 1/4 or 1/8 scale when still >= 600 px
            image.draft("RGB", (max(SIZES), max(SIZES)))
        image.load()
        upright = ImageOps.exif_transpose(image)  # a phone photo's rotation, then no EXIF
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise ArtError(f"damaged image: {error}") from None
    flat = _flatten(upright)
    flat.info = {}  # comments, ICC profiles, EXIF: an encoder would copy them from here
    return flat


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid over white (the page's light background)."""
    from PIL import Image

    if image.mode == "RGB":
        return image
    if image.mode == "P" or image.mode == "LA" or "A" in image.mode or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _square(image: Image.Image) -> Image.Image:
    """The centred square: covers are square, a wider image loses its sides."""
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return image.crop((left, top, left + side, top + side))


def _resize(square: Image.Image, size: int) -> Image.Image:
    from PIL import Image

    if square.size == (size, size):
        return square
    # reducing_gap: a cheap box reduction first, then Lanczos over the last factor of 3.
    return square.resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(image: Image.Image, fmt: str, options: Mapping[str, object]) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)  # no exif=, icc_profile=: the copy carries none
    return out.getvalue()


# --- which images a site wants ----------------------------------------------------------------


def wanted_images(catalog: Catalog) -> list[str]:
    """The image URLs the site shows, most important first: every show's cover, then the
    images of the newest EPISODE_IMAGES episodes whose image differs from their show's."""
    covers = [p.image for p in catalog.podcasts if p.image][:SHOW_COVERS]
    shows = {p.slug: p.image for p in catalog.podcasts}
    own = [
        e.image
        for e in catalog.episodes[:EPISODE_IMAGES]
        if e.image and e.image != shows.get(e.podcast)
    ]
    return list(dict.fromkeys([*covers, *own]))


# --- the site's covers, for the templates ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cover:
    """One source's copies on the site: `path(size, fmt)` is a site path (urls.art). With no
    key (nothing was prepared), every size is the site's own static/cover.png itself."""

    key: str
    fallback: bool = False  # the site's own cover.png stands in

    def path(self, size: int, fmt: str = "jpg") -> str:
        return urls.art(self.key, size, fmt) if self.key else urls.static(FALLBACK_FILE)

    @property
    def has_webp(self) -> bool:
        return bool(self.key)


@dataclass(frozen=True, slots=True)
class Artwork:
    """What the site shows as covers: source URL -> key of its copies, and the fallback's key.

    A value: the pipeline makes it (fetching, decoding), the renderer and the browser index
    read it."""

    by_url: Mapping[str, str]
    fallback_key: str
    touch_icon: bool = True  # an apple-touch-icon was written

    @property
    def fallback(self) -> Cover:
        return Cover(self.fallback_key, fallback=True)

    @property
    def site_cover(self) -> Cover:
        """static/cover.png itself: the site pages' og:image."""
        return Cover("", fallback=True)

    def for_url(self, url: str | None) -> Cover:
        key = self.by_url.get(url) if url else None
        return self.fallback if key is None else Cover(key)

    def for_podcast(self, podcast: Podcast | None) -> Cover:
        return self.for_url(podcast.image if podcast else None)

    def for_episode(self, episode: Episode, podcast: Podcast | None) -> Cover:
        """The episode's own image when the site has it, else its show's cover."""
        key = self.by_url.get(episode.image) if episode.image else None
        return Cover(key) if key is not None else self.for_podcast(podcast)

    def card_images(self, catalog: Catalog, size: int = SIZES[0]) -> dict[str, str]:
        """Episode id -> the site path of its cover's JPEG copy of `size` (search results)."""
        podcasts = {p.slug: p for p in catalog.podcasts}
        return {
            e.id: self.for_episode(e, podcasts.get(e.podcast)).path(size) for e in catalog.episodes
        }

    def keys(self) -> list[str]:
        return sorted({*self.by_url.values(), self.fallback_key} - {""})


# --- the cache of encoded copies (I/O) ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArtResult:
    """What preparing the covers gave: the Artwork, and the keys that could not be used."""

    artwork: Artwork
    encoded: int  # sources encoded by this build (the rest came from the cache)
    failed: Mapping[str, str]  # URL -> why its image is not used


class ArtStore:
    """Encoded copies kept in the cache, one folder per source key: `<key>/<size>.<fmt>`.

    A folder holds every copy or none: it is written under a temporary name and renamed."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_dir / f"art-{_ENCODING}"

    def has(self, key: str) -> bool:
        return (self.root / key / _DONE).is_file()

    def file(self, key: str, size: int, fmt: str) -> Path:
        return self.root / key / f"{size}.{fmt}"

    def add(self, key: str, copies: Mapping[tuple[int, str], bytes]) -> None:
        folder = self.root / key
        folder.mkdir(parents=True, exist_ok=True)
        for (size, fmt), data in sorted(copies.items()):
            replace_file(folder / f"{size}.{fmt}", data)
        replace_file(folder / _DONE, b"")  # last: a folder without it is encoded again

    def prepare(self, sources: Mapping[str, bytes | None], fallback: bytes) -> ArtResult:
        """The Artwork for `sources` (URL -> its bytes, None: none kept), encoding only the
        sources the cache does not hold; `fallback` is the site's own cover."""
        by_url: dict[str, str] = {}
        failed: dict[str, str] = {}
        encoded = 0
        fallback_key = art_key(fallback)
        items: Iterable[tuple[str, bytes | None]] = [("", fallback), *sorted(sources.items())]
        for url, source in items:
            if source is None:
                continue
            key = art_key(source)
            if not self.has(key):
                try:
                    self.add(key, resized_copies(source))
                except ArtError as error:
                    failed[url or "cover.png"] = str(error)
                    continue
                encoded += 1
            if url:
                by_url[url] = key
        if not self.has(fallback_key):  # a site's cover.png that is no image: shown as it is
            return ArtResult(Artwork(by_url, "", touch_icon=False), encoded, failed)
        touch = self.root / fallback_key / _TOUCH
        if not touch.is_file():
            replace_file(touch, touch_icon(fallback))
        return ArtResult(Artwork(by_url, fallback_key), encoded, failed)

    def touch_icon_file(self, artwork: Artwork) -> Path:
        return self.root / artwork.fallback_key / _TOUCH

    def site_files(self, artwork: Artwork) -> dict[str, Path]:
        """Site path -> the cached file that holds it, for every copy the site shows."""
        return {
            urls.art(key, size, fmt): self.file(key, size, fmt)
            for key in artwork.keys()  # noqa: SIM118 -- Artwork.keys(), not a dict's
            if self.has(key)
            for size in SIZES
            for fmt in FORMATS
        }


_DONE = "complete"
_TOUCH = "touch.png"


def total_bytes(files: Sequence[Path]) -> int:
    return sum(path.stat().st_size for path in files)
