"""Covers: hostile image bytes decoded safely, resized copies that are the same bytes every
build, a cache that spares a rebuild the encoding, and the build fetching covers from a
server on 127.0.0.1 (and serving them from the site, never from the feed's host)."""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image
from test_chapters_remote import Route, _Server, run_build, served_file, server

from devcasts.records import Catalog, Episode, Podcast
from devcasts.site import artwork, urls
from devcasts.site.artwork import ArtError, ArtStore, Artwork

__all__ = ["server"]  # the fixture: the file server of test_chapters_remote

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (900, 700), mode: str = "RGB", **save: object
) -> bytes:
    """A small picture with some structure (so resizing has work to do)."""
    image = Image.new(mode, size)
    width, height = size
    pixels = [
        ((x * 255) // width, (y * 255) // height, ((x + y) * 7) % 256)
        for y in range(height)
        for x in range(width)
    ]
    rgb = Image.new("RGB", size)
    rgb.putdata(pixels)
    image = rgb.convert(mode) if mode != "RGB" else rgb
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header and holds one empty data chunk: a decoder that
    trusts the header would allocate width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# --- decoding hostile bytes -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_common_formats_give_every_copy_square_and_in_its_format(fmt: str) -> None:
    copies = artwork.resized_copies(image_bytes(fmt))
    assert set(copies) == {(s, f) for s in artwork.SIZES for f in artwork.FORMATS}
    for (size, fmt_out), data in copies.items():
        with Image.open(io.BytesIO(data)) as copy:
            assert copy.size == (size, size)
            assert copy.format == {"webp": "WEBP", "jpg": "JPEG"}[fmt_out]
            assert copy.mode == "RGB"


def test_copies_carry_no_metadata() -> None:
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker Inc"  # Make
    exif[0x8298] = "(c) someone, with a secret in the metadata"  # Copyright
    source = image_bytes("JPEG", exif=exif.tobytes(), comment=b"hidden comment")
    assert b"secret in the metadata" in source
    for data in artwork.resized_copies(source).values():
        assert b"secret" not in data and b"Camera Maker" not in data and b"hidden" not in data
        with Image.open(io.BytesIO(data)) as copy:
            assert not copy.getexif()
            assert "icc_profile" not in copy.info


def test_transparency_is_laid_over_white_and_an_animation_gives_its_first_frame() -> None:
    clear = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    out = io.BytesIO()
    clear.save(out, format="PNG")
    image = artwork.decode(out.getvalue())
    assert image.mode == "RGB" and image.getpixel((100, 100)) == (255, 255, 255)

    frames = [Image.new("RGB", (120, 120), color) for color in ((200, 0, 0), (0, 0, 200))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    red = artwork.decode(out.getvalue()).getpixel((60, 60))
    assert isinstance(red, tuple) and red[0] > 150 and red[2] < 60


def test_a_wide_image_is_cut_to_its_centre() -> None:
    wide = Image.new("RGB", (300, 100), (0, 0, 255))
    wide.paste((255, 0, 0), (100, 0, 200, 100))  # a red square in the middle
    out = io.BytesIO()
    wide.save(out, format="PNG")
    copies = artwork.resized_copies(out.getvalue())
    with Image.open(io.BytesIO(copies[(96, "jpg")])) as copy:
        r, _g, b = copy.convert("RGB").getpixel((5, 48))  # type: ignore[misc]
        assert r > 200 and b < 60


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (png_header_only(100_000, 100_000), "not an image|pixels"),  # Pillow's own bomb check
        (png_header_only(7_000, 7_000), "pixels is not a cover"),  # 49 MP: over our cap
        (png_header_only(20_000, 10), "pixels is not a cover"),  # a strip, not a cover
        (b"<!doctype html><title>Not found</title>", "not an image"),
        (b"", "not an image"),
        (b"GIF89a" + b"\0" * 40, "unreadable|not an image|damaged"),
        (image_bytes("BMP", (40, 40)), "not an image"),  # a format covers never need
        (b"\0" * (artwork.MAX_SOURCE_BYTES + 1), "larger than"),
    ],
    ids=["bomb", "over-cap", "strip", "html", "empty", "bad-gif", "bmp", "too-big"],
)
def test_unusable_bytes_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ArtError, match=reason):
        artwork.resized_copies(data)


def test_a_truncated_file_is_refused() -> None:
    whole = image_bytes("JPEG", (600, 600))
    with pytest.raises(ArtError, match=r"damaged|unreadable"):
        artwork.resized_copies(whole[: len(whole) // 2])
    png = image_bytes("PNG", (600, 600))
    with pytest.raises(ArtError, match=r"damaged|unreadable"):
        artwork.resized_copies(png[: len(png) // 2])


def test_a_first_look_tells_images_from_error_pages() -> None:
    for fmt in ("PNG", "JPEG", "WEBP", "GIF"):
        assert artwork.image_problem(image_bytes(fmt, (20, 20))) is None
    assert artwork.image_problem(b"<html>") is not None
    assert artwork.image_problem(b"RIFF\0\0\0\0WAVEfmt ") is not None


# --- the same bytes every build; encoded once --------------------------------------------------


def test_copies_are_the_same_bytes_every_time_and_named_by_their_source() -> None:
    source = image_bytes("PNG")
    assert artwork.resized_copies(source) == artwork.resized_copies(source)
    key = artwork.art_key(source)
    assert key == artwork.art_key(bytes(source)) and re.fullmatch(r"[0-9a-f]{20}", key)
    assert artwork.art_key(image_bytes("PNG", (901, 700))) != key
    assert artwork.art_files(key)[0] == f"art/{key}-96.webp"
    assert artwork.touch_icon(source) == artwork.touch_icon(source)


def test_the_store_encodes_a_source_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cover, fallback = image_bytes("JPEG"), image_bytes("PNG", (300, 300))
    store = ArtStore(tmp_path)
    sources: dict[str, bytes | None] = {
        "https://cdn.example.net/show.jpg": cover,
        "https://cdn.example.net/error.jpg": b"<html>",
        "https://cdn.example.net/never-fetched.jpg": None,
    }
    first = store.prepare(sources, fallback)
    assert first.encoded == 2  # the cover and the site's own
    assert first.artwork.by_url == {"https://cdn.example.net/show.jpg": artwork.art_key(cover)}
    assert list(first.failed) == ["https://cdn.example.net/error.jpg"]
    files = store.site_files(first.artwork)
    assert len(files) == 2 * len(artwork.SIZES) * len(artwork.FORMATS)
    assert store.touch_icon_file(first.artwork).is_file()

    def no_encoding(source: bytes) -> dict[tuple[int, str], bytes]:
        raise AssertionError("encoded again")

    monkeypatch.setattr(artwork, "resized_copies", no_encoding)
    sources.pop("https://cdn.example.net/error.jpg")
    again = store.prepare(sources, fallback)
    assert again.encoded == 0 and again.artwork == first.artwork


def test_a_sites_cover_that_is_no_image_is_linked_as_it_is(tmp_path: Path) -> None:
    result = ArtStore(tmp_path).prepare({}, b"not a png")
    assert result.artwork.fallback.path(96) == urls.static("cover.png")
    assert not result.artwork.touch_icon and list(result.failed) == ["cover.png"]


def test_an_episode_shows_its_own_image_else_its_shows_else_the_sites() -> None:
    show = Podcast(slug="s", title="S", feed_url="f", image="https://i.example.net/show.png")
    bare = Podcast(slug="b", title="B", feed_url="f")
    art = Artwork({show.image or "": "aaa", "https://i.example.net/ep.png": "bbb"}, "fff")

    def ep(image: str | None) -> Episode:
        return Episode(id="1", podcast="s", guid="g", title="t", published=T0, image=image)

    assert art.for_episode(ep("https://i.example.net/ep.png"), show).key == "bbb"
    assert art.for_episode(ep("https://i.example.net/unfetched.png"), show).key == "aaa"
    assert art.for_episode(ep(None), bare).fallback
    assert art.for_podcast(None).path(192, "webp") == urls.art("fff", 192, "webp")
    assert Artwork({}, "").fallback.path(600, "jpg") == urls.static("cover.png")


def test_a_site_wants_every_cover_and_the_newest_episodes_own_images() -> None:
    shows = tuple(
        Podcast(slug=f"s{n}", title=f"S{n}", feed_url="f", image=f"https://i.example.net/{n}.png")
        for n in range(3)
    )
    episodes = tuple(
        Episode(
            id=str(n),
            podcast=f"s{n % 3}",
            guid=str(n),
            title="t",
            published=T0 - timedelta(days=n),
            # every other episode has its own image; the rest repeat their show's
            image=f"https://i.example.net/ep{n}.png"
            if n % 2
            else f"https://i.example.net/{n % 3}.png",
        )
        for n in range(artwork.EPISODE_IMAGES * 3)
    )
    catalog = Catalog(site=None, topics=(), podcasts=shows, episodes=episodes)  # type: ignore[arg-type]
    wanted = artwork.wanted_images(catalog)
    assert wanted[:3] == [p.image for p in shows]
    own = wanted[3:]
    assert len(own) == artwork.EPISODE_IMAGES // 2  # of the newest EPISODE_IMAGES, only own
    assert own[0] == "https://i.example.net/ep1.png"
    assert all(int(url.rsplit("ep", 1)[1].split(".")[0]) < artwork.EPISODE_IMAGES for url in own)


# --- the build, with covers served from 127.0.0.1 -----------------------------------------------


def image_file(body: bytes, etag: str, content_type: str = "image/jpeg") -> Route:
    return served_file(body, content_type, etag)


# A feed in the shape hosting services write: the channel's itunes:image and <image>, one
# episode with its own artwork, one that repeats the show's, one whose image is broken.
FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel>
  <title>Render Farm Radio</title>
  <link>https://renderfarm.example.org/</link>
  <description>Builds, caches and the people who keep them fast.</description>
  <language>en</language>
  <itunes:image href="{cover}"/>
  <image><url>{cover}</url><title>Render Farm Radio</title><link>https://renderfarm.example.org/</link></image>
  <item>
    <title>12: Remote caches that stay warm</title>
    <guid isPermaLink="false">rfr-12</guid>
    <pubDate>Fri, 27 Feb 2026 08:00:00 +0000</pubDate>
    <enclosure url="https://cdn.example.net/rfr/12.mp3" length="1000" type="audio/mpeg"/>
    <itunes:image href="{own}"/>
    <description>Cache hits, cache misses and the bill.</description>
  </item>
  <item>
    <title>11: Hermetic toolchains</title>
    <guid isPermaLink="false">rfr-11</guid>
    <pubDate>Fri, 20 Feb 2026 08:00:00 +0000</pubDate>
    <enclosure url="https://cdn.example.net/rfr/11.mp3" length="1000" type="audio/mpeg"/>
    <itunes:image href="{cover}"/>
    <description>Why the compiler is part of the input.</description>
  </item>
  <item>
    <title>10: The broken thumbnail</title>
    <guid isPermaLink="false">rfr-10</guid>
    <pubDate>Fri, 13 Feb 2026 08:00:00 +0000</pubDate>
    <enclosure url="https://cdn.example.net/rfr/10.mp3" length="1000" type="audio/mpeg"/>
    <itunes:image href="{broken}"/>
    <description>An image URL that serves a web page.</description>
  </item>
</channel>
</rss>
"""

COVER = image_bytes("JPEG", (1400, 1400), quality=90)
OWN = image_bytes("PNG", (800, 800))


def write_site(folder: Path, server: _Server) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    feed = FEED.format(
        cover=server.url("/rfr/cover.jpg"),
        own=server.url("/rfr/12.png"),
        broken=server.url("/rfr/10.jpg"),
    )
    (folder / "show.xml").write_text(feed, encoding="utf-8")
    (folder / "feeds.yaml").write_text(
        "site:\n  title: Covers test\n  base_url: https://example.github.io/art/\n"
        "feeds:\n  - url: show.xml\n",
        encoding="utf-8",
    )


def serve_images(server: _Server) -> None:
    server.routes["/rfr/cover.jpg"] = image_file(COVER, '"c1"')
    server.routes["/rfr/12.png"] = image_file(OWN, '"e12"', "image/png")
    server.routes["/rfr/10.jpg"] = lambda h: h.respond(200, b"<html>moved</html>")


def site_file(folder: Path, pattern: str) -> str:
    [path] = (folder / "site").glob(pattern)
    return path.read_text(encoding="utf-8")


def art_names(html: str) -> set[str]:
    return set(re.findall(r"art/([0-9a-f]{20})-\d+\.(?:webp|jpg)", html))


def test_a_build_fetches_covers_once_and_serves_them_from_the_site(
    server: _Server, tmp_path: Path
) -> None:
    serve_images(server)
    write_site(tmp_path, server)
    report = run_build(tmp_path, T0)
    cover, own = artwork.art_key(COVER), artwork.art_key(OWN)
    assert server.hits == Counter({"/rfr/cover.jpg": 1, "/rfr/12.png": 1, "/rfr/10.jpg": 1})
    assert (report.art_fetched, report.art_kept, report.art_failed) == (2, 0, 1)
    assert report.art_waiting == 0

    art = tmp_path / "site" / "art"
    written = {path.name for path in art.iterdir()}
    for key in (cover, own):
        assert {f"{key}-{s}.{f}" for s in artwork.SIZES for f in artwork.FORMATS} <= written
    assert (
        report.art_bytes
        == sum(p.stat().st_size for p in art.iterdir())
        + (tmp_path / "site" / "apple-touch-icon.png").stat().st_size
    )
    assert (tmp_path / "site" / "apple-touch-icon.png").read_bytes().startswith(b"\x89PNG")

    podcast = site_file(tmp_path, "podcasts/*/index.html")
    assert server.url("/") not in podcast  # no page names the feed's image host
    assert art_names(podcast) >= {cover, own}
    assert f'content="https://example.github.io/art/art/{cover}-600.jpg"' in podcast
    own_page = site_file(tmp_path, "podcasts/*/12-*/index.html")
    assert (
        f'<meta property="og:image" content="https://example.github.io/art/art/{own}-600.jpg">'
        in own_page
    )
    assert art_names(site_file(tmp_path, "podcasts/*/11-*/index.html")) == {cover}
    broken = site_file(tmp_path, "podcasts/*/10-*/index.html")
    assert art_names(broken) == {cover}  # its image is no image: the show's cover stands in
    grid = site_file(tmp_path, "podcasts/index.html")
    assert f"art/{cover}-192.webp" in grid and 'width="192" height="192"' in grid
    for html in (podcast, own_page, broken, grid, site_file(tmp_path, "index.html")):
        for img in re.findall(r"<img [^>]*>", html):
            assert 'width="' in img and 'height="' in img and 'alt="' in img, img

    # Within the week (and the failed image's hour of backoff) nothing is asked or encoded.
    before = {p.name: p.stat().st_mtime_ns for p in art.iterdir()}
    (tmp_path / "show.xml").write_text(
        (tmp_path / "show.xml").read_text().replace("and the bill.", "and who pays."),
        encoding="utf-8",
    )
    again = run_build(tmp_path, T0 + timedelta(minutes=30))  # before the failed one's backoff
    assert sum(server.hits.values()) == 3
    assert (again.art_fetched, again.art_kept) == (0, 2)
    assert {p.name: p.stat().st_mtime_ns for p in art.iterdir()} == before

    # A week later: a conditional GET, answered 304; a changed cover gets new names.
    server.routes["/rfr/cover.jpg"] = image_file(image_bytes("JPEG", (1000, 1000)), '"c2"')
    (tmp_path / "show.xml").write_text(
        (tmp_path / "show.xml").read_text().replace("who pays.", "who pays, again."),
        encoding="utf-8",
    )
    later = run_build(tmp_path, T0 + timedelta(days=8))
    assert later.art_fetched == 2
    new_cover = artwork.art_key(image_bytes("JPEG", (1000, 1000)))
    names = {p.name for p in art.iterdir()}
    assert f"{new_cover}-96.webp" in names and f"{cover}-96.webp" not in names
    assert art_names(site_file(tmp_path, "podcasts/*/11-*/index.html")) == {new_cover}
    assert new_cover in art_names(site_file(tmp_path, "podcasts/index.html"))


def test_an_offline_build_uses_the_kept_copies(server: _Server, tmp_path: Path) -> None:
    serve_images(server)
    write_site(tmp_path, server)
    run_build(tmp_path, T0)
    asked = sum(server.hits.values())
    server.routes.clear()  # the host is gone: only the cache can help
    (tmp_path / "site").rename(tmp_path / "old-site")
    (tmp_path / "cache" / "art-v1").rename(tmp_path / "old-art")  # encoded again, from kept
    report = run_build(tmp_path, T0 + timedelta(days=30), offline=True)
    assert sum(server.hits.values()) == asked
    assert (report.art_fetched, report.art_kept) == (0, 2)
    assert art_names(site_file(tmp_path, "podcasts/*/12-*/index.html")) == {artwork.art_key(OWN)}
    assert (tmp_path / "site" / "art" / f"{artwork.art_key(COVER)}-600.jpg").is_file()


def test_offline_with_nothing_kept_the_covers_wait(server: _Server, tmp_path: Path) -> None:
    write_site(tmp_path, server)
    report = run_build(tmp_path, T0, offline=True)
    assert sum(server.hits.values()) == 0
    assert (report.art_fetched, report.art_kept, report.art_failed) == (0, 0, 0)
    assert report.art_waiting == 3
    assert len(art_names(site_file(tmp_path, "podcasts/*/12-*/index.html"))) == 1  # cover.png


def test_without_any_cover_the_sites_own_stands_in(tmp_path: Path) -> None:
    (tmp_path / "show.xml").write_text(
        FEED.replace('<itunes:image href="{cover}"/>', "")
        .replace(
            "<image><url>{cover}</url><title>Render Farm Radio</title>", "<image><title>x</title>"
        )
        .format(cover="", own="", broken=""),
        encoding="utf-8",
    )
    (tmp_path / "feeds.yaml").write_text(
        "site:\n  title: Covers test\n  base_url: https://example.github.io/art/\n"
        "feeds:\n  - url: show.xml\n",
        encoding="utf-8",
    )
    report = run_build(tmp_path, T0, offline=True)
    assert (report.art_fetched, report.art_failed, report.art_waiting) == (0, 0, 0)
    home = site_file(tmp_path, "index.html")
    names = art_names(home)
    assert len(names) == 1  # the site's cover.png, resized
    [key] = names
    assert (tmp_path / "site" / "art" / f"{key}-96.webp").is_file()
    assert (
        '<meta property="og:image" content="https://example.github.io/art/static/cover.png">'
        in home
    )
    assert '<link rel="apple-touch-icon" href="/art/apple-touch-icon.png">' in home


def test_a_cover_due_again_is_asked_though_nothing_else_changed(
    server: _Server, tmp_path: Path
) -> None:
    serve_images(server)
    server.routes.pop("/rfr/10.jpg")  # 404: due again after an hour, then two, ...
    write_site(tmp_path, server)
    run_build(tmp_path, T0)
    assert sum(server.hits.values()) == 3
    assert run_build(tmp_path, T0 + timedelta(minutes=10)).up_to_date
    assert sum(server.hits.values()) == 3  # nothing due: nothing asked

    server.routes["/rfr/cover.jpg"] = image_file(COVER, '"c1"')
    week = run_build(tmp_path, T0 + timedelta(days=8))
    assert not week.up_to_date  # the covers were due: the sinks ran for them
    assert server.hits["/rfr/cover.jpg"] == 2 and server.hits["/rfr/12.png"] == 2
    assert (week.art_fetched, week.art_failed) == (2, 1)  # two 304s: still good copies
    assert run_build(tmp_path, T0 + timedelta(days=8, minutes=5)).up_to_date
