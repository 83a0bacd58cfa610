"""Privacy as the docs promise: no counting images, other images load lazily over https
without a referrer, no tracking parameters on links, no private hosts in pages or feeds.

The notes below are written in the shapes real feeds use (FeedBurner's per-item counter at the
end of the notes, a hosted feed's 1x1 gif, a Matomo counter with its escaped ampersands, a
WordPress image with its classes and inline style), for shows made up for the tests.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.ingest.privacy import is_pixel_size, is_tracking_image, is_tracking_parameter
from devcasts.ingest.sanitize import clean_url, notes_to_html, sanitize_html
from devcasts.model import SiteConfig
from devcasts.records import Podcast
from devcasts.site import discovery
from devcasts.util.links import http_url, public_url

BASE = "https://lighthouse-hour.example/episodes/7/"
PRIVATE = 'loading="lazy" decoding="async" referrerpolicy="no-referrer"'


def images(html: str) -> list[str]:
    return re.findall(r"<img\b[^>]*>", html)


# --- counting images --------------------------------------------------------------------------

COUNTERS = {
    "feedburner item counter": (
        '<p>We sail past the breakwater.</p><img src="http://feeds.feedburner.com/~r/'
        'LighthouseHour/~4/q7ZxK2pLm0A" height="1" width="1" alt=""/>'
    ),
    "feedburner counter without size": (
        '<p>We sail past the breakwater.</p><img src="http://feeds.feedburner.com/~r/'
        'LighthouseHour/~4/q7ZxK2pLm0A"/>'
    ),
    "feedburner flare": (
        "<p>We sail past the breakwater.</p>"
        '<a href="http://feeds.feedburner.com/~ff/LighthouseHour?a=Xy1:Zq2"><img '
        'src="http://feeds.feedburner.com/~ff/LighthouseHour?d=yIl2AUoC8zA" border="0"></img></a>'
    ),
    "hosted feed 1x1 gif": (
        '<p>We sail past the breakwater.</p><img src="http://feedhost.example/412/889120.gif" '
        'height="1" width="1"/>'
    ),
    "zero-size image": (
        '<p>We sail past the breakwater.</p><img src="https://cdn.example/c.png" width="0" '
        'height="0" alt="">'
    ),
    "matomo renamed counter": (
        "<p>We sail past the breakwater.</p>"
        '<img src="https://count.harbour.example/p.php?idsite=4&amp;rec=1&amp;action_name='
        'Breakwater&amp;url=https%3A%2F%2Fharbour.example%2Fposts%2F7" style="border:0;" alt="" />'
    ),
    "matomo php": (
        '<p>We sail past the breakwater.</p><img src="https://harbour.example/matomo.php'
        '?idsite=2&amp;rec=1" style="border:0" alt="" />'
    ),
    "piwik php": (
        '<p>We sail past the breakwater.</p><img src="//harbour.example/piwik/piwik.php'
        '?idsite=9" alt="">'
    ),
    "stats host": (
        '<p>We sail past the breakwater.</p><img src="https://stats.harbour.example/c.gif" alt="">'
    ),
    "pixel host": (
        '<p>We sail past the breakwater.</p><img src="https://pixel.adnet.example/i?e=7" alt="">'
    ),
    "analytics host": (
        '<p>We sail past the breakwater.</p><img src="https://www.google-analytics.com/'
        'collect?v=1&amp;tid=UA-1" alt="">'
    ),
}


@pytest.mark.parametrize("notes", COUNTERS.values(), ids=COUNTERS.keys())
def test_counting_images_are_dropped_and_the_notes_stay(notes: str) -> None:
    published = notes_to_html(notes, BASE)
    assert published == "<p>We sail past the breakwater.</p>"


def test_a_counting_image_inside_a_link_takes_the_empty_link_with_it() -> None:
    notes = (
        '<p>Before <a href="https://harbour.example/x"><img src="https://stats.harbour.example/'
        'c.gif" alt=""></a>after, and <a href="https://harbour.example/y">a real link</a>.</p>'
    )
    published = sanitize_html(notes, BASE)
    assert "harbour.example/x" not in published
    assert 'href="https://harbour.example/y"' in published


# --- other images -----------------------------------------------------------------------------


def test_a_real_image_loads_lazily_over_https_without_referrer_and_keeps_its_size() -> None:
    notes = (
        '<p>Our guest:</p><img class="alignright size-full wp-image-745" style="border-radius:'
        ' 50%; border: 1px solid #000000;" src="http://lighthouse-hour.example/wp-content/'
        'uploads/guest.jpeg" alt="Our guest" width="175" height="175" />'
    )
    assert images(notes_to_html(notes, BASE)) == [
        '<img src="https://lighthouse-hour.example/wp-content/uploads/guest.jpeg" alt="Our guest"'
        f' width="175" height="175" {PRIVATE}>'
    ]


@pytest.mark.parametrize(
    ("size", "kept"),
    [
        ('width="600" height="450"', ' width="600" height="450"'),
        ('width="0600"', ' width="600"'),
        ('width="100%" height="auto"', ""),
        ('width="600px"', ""),
        ('width=" 300 "', ' width="300"'),
        ('width="99999999"', ""),
        ('width="\u0663\u0660"', ""),  # Arabic-Indic digits are not a size
    ],
)
def test_image_sizes_are_plain_pixel_numbers(size: str, kept: str) -> None:
    published = sanitize_html(f'<img src="https://i.example/a.png" alt="a" {size}>')
    assert published == f'<img src="https://i.example/a.png" alt="a"{kept} {PRIVATE}>'


def test_the_feeds_own_loading_and_referrer_settings_give_way_to_ours() -> None:
    notes = (
        '<img src="https://i.example/a.png" loading="eager" decoding="sync" '
        'referrerpolicy="unsafe-url" alt="Map of the bay">'
    )
    assert (
        sanitize_html(notes)
        == f'<img src="https://i.example/a.png" alt="Map of the bay" {PRIVATE}>'
    )


def test_images_in_plain_text_notes_stay_text() -> None:
    assert "<img" not in notes_to_html("See https://i.example/a.png for the map.", BASE)


@given(
    st.lists(
        st.sampled_from(
            [
                '<img src="http://i.example/a.png" width="20" height="1">',
                '<img src="https://i.example/b.png" title="t" alt="b" height="30">',
                '<img src="//i.example/c.png" loading="lazy">',
                '<img src="http://feeds.feedburner.com/~r/x/~4/y">',
                '<a href="https://e.example/"><img src="https://stats.e.example/p.gif"></a>',
                '<a href="https://e.example/">text<img src="https://i.example/d.png"></a>',
                "<p>",
                "</p>",
                "<b>",
                "text",
                '<img alt="no source">',
            ]
        ),
        max_size=12,
    )
)
@settings(max_examples=200)
def test_every_image_kept_is_private_and_the_result_is_stable(parts: list[str]) -> None:
    once = sanitize_html("".join(parts), BASE)
    assert sanitize_html(once, BASE) == once
    for tag in images(once):
        assert tag.startswith('<img src="https://') and tag.endswith(f" {PRIVATE}>")
        assert 'alt="' in tag
        assert "feedburner" not in tag and "stats." not in tag
        assert not re.search(r'(?:width|height)="[01]"', tag)


@pytest.mark.parametrize(
    ("url", "tracking"),
    [
        ("http://feeds.feedburner.com/~r/Show/~4/AbC", True),
        ("https://feeds2.feedburner.com/~ff/Show?d=1", True),
        ("https://stats.example.org/p.php?idsite=8amp;action_name=x", True),
        ("https://example.org/p.php?page=2", False),
        ("https://example.org/analytics/chart.png", False),
        ("https://cdn.example.org/~r/x/~5/audio.mp3", False),
        ("https://statsguy.example/cover.png", False),
        ("https://media.example/stats.png", False),
        ("https://example.org/pixel.gif", True),
        ("https://example.org/img/pixelart.png", False),
        ("https://notfeedburner.com/a.png", False),
    ],
)
def test_tracking_images_by_host_and_path(url: str, tracking: bool) -> None:
    assert is_tracking_image(url) is tracking


def test_pixel_sizes() -> None:
    assert is_pixel_size("1", None) and is_pixel_size(None, "0") and is_pixel_size("1", "1")
    assert not is_pixel_size("10", "1000") and not is_pixel_size(None, None)


# --- links --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "cleaned"),
    [
        ("https://shop.example/item?ref=lighthousehour&size=m", "https://shop.example/item?size=m"),
        ("https://www.example.com/title/tt01/?ref_=nv_sr_2", "https://www.example.com/title/tt01/"),
        (
            "https://news.example/2024/story.html?smid=tw-share",
            "https://news.example/2024/story.html",
        ),
        ("https://news.example/a?REF=x&Smid=y&utm_medium=rss", "https://news.example/a"),
        (
            "https://news.example/a?refresh=1&reference=2",
            "https://news.example/a?refresh=1&reference=2",
        ),
        ("https://news.example/a?%72ef=x&b=1", "https://news.example/a?b=1"),
    ],
)
def test_ref_and_smid_are_tracking_parameters(url: str, cleaned: str) -> None:
    assert clean_url(url) == cleaned
    assert is_tracking_parameter("ref") and not is_tracking_parameter("referrer")


def test_links_in_notes_lose_their_tracking_parameters() -> None:
    notes = '<p>Sponsored by <a href="https://sponsor.example/?ref=lighthouse">Sponsor</a>.</p>'
    assert 'href="https://sponsor.example/"' in notes_to_html(notes, BASE)


# --- private hosts: one rule for pages, JSON-LD and our feeds ---------------------------------

PRIVATE_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/feed.xml",
    "http://localhost:8080/cover.png",
    "http://[::1]/a.mp3",
    "http://2852039166/x",
]


@pytest.mark.parametrize("url", PRIVATE_URLS)
def test_private_hosts_are_not_public_urls(url: str) -> None:
    assert http_url(url) == url
    assert public_url(url) is None
    assert discovery.external_url(url) is None


def test_public_urls_keep_their_shape() -> None:
    assert public_url("  https://lighthouse-hour.example/feed.xml ") == (
        "https://lighthouse-hour.example/feed.xml"
    )
    for bad in ("https://a b.example/", "javascript:alert(1)", "/feed.xml", "https://", None, ""):
        assert public_url(bad) is None


def test_json_ld_leaves_out_private_feed_and_image_urls() -> None:
    site = SiteConfig(title="t", base_url="https://casts.example/", description="d")
    podcast = Podcast(
        "lighthouse-hour",
        "Lighthouse Hour",
        "http://10.1.2.3/feed.xml",
        image="http://169.254.169.254/cover.png",
    )
    series = discovery.podcast_series_ld(podcast, site)
    assert "webFeed" not in series and "image" not in series
