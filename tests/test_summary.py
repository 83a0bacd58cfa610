"""Card summaries: the notes' own lead, without boilerplate, sponsors or glued headings.

The notes below copy the shapes real feeds use (a credits-first show, a network's link lists,
a hosting footer, a heading over the first paragraph), written for invented shows.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from devcasts.ingest.normalize import normalize_feed
from devcasts.ingest.parse import parse_feed
from devcasts.ingest.sanitize import notes_to_html
from devcasts.ingest.summary import episode_summary, is_real_sentence
from devcasts.model import FeedSource

NOW = datetime(2026, 7, 2, tzinfo=UTC)


def summary(raw_notes: str, title: str = "Compilers at dawn", subtitle: str = "") -> str:
    return episode_summary(notes_to_html(raw_notes, None), title, subtitle)


# --- boilerplate at the start ---------------------------------------------------------------

CREDITS_FIRST = (
    '<h2>Night Desk Episode 812 - "Lost Packets"</h2>'
    '<div><p><strong>"Lost Packets"</strong></p>'
    "<p>Executive Producers:</p><p>Sir Nils of the Harbour</p><p>Dame Petra</p>"
    "<p>Associate Executive Producers:</p><p>Olli K</p>"
    '<p><a href="https://cdn.nightdesk.example/812.mp3">Direct [link] to the mp3 file</a></p>'
    "<p>Nils and Petra trace a packet across three oceans and find it in a drawer.</p></div>"
)


def test_credits_title_and_mp3_link_are_skipped_for_the_first_paragraph() -> None:
    got = summary(CREDITS_FIRST, title='812: "Lost Packets"', subtitle='812: "Lost Packets"')
    assert got == "Nils and Petra trace a packet across three oceans and find it in a drawer."


def test_a_real_subtitle_wins_over_notes_that_open_with_boilerplate() -> None:
    got = summary(
        CREDITS_FIRST,
        title='812: "Lost Packets"',
        subtitle="A packet goes missing and the hosts go looking for it.",
    )
    assert got == "A packet goes missing and the hosts go looking for it."


def test_show_notes_heading_and_repeated_title_are_skipped() -> None:
    notes = (
        "<p><b>Shownotes</b></p><p><b>Relay Hour for May 3rd 2024 Episode 41: Warm Caches</b></p>"
        '<p><a href="https://relay.example/41.mp3">Download the mp3</a></p>'
        "<p>Kim and Lou talk about warm caches, cold starts and a surprising bill.</p>"
    )
    got = summary(notes, title="Episode 41: Warm Caches", subtitle="Episode 41: Warm Caches")
    assert got == "Kim and Lou talk about warm caches, cold starts and a surprising bill."


def test_a_link_list_first_gives_way_to_the_subtitle() -> None:
    notes = (
        "<p><strong>Our socials</strong><br>"
        '<a href="https://social.example/@host">Host on Mastodon</a><br>'
        '<a href="https://video.example/show">Show on video</a></p>'
        '<p><a href="https://chat.example/invite">Chat with us</a></p>'
    )
    subtitle = "Tom sits down with a kernel maintainer to talk about scheduling."
    assert summary(notes, title="233: Schedulers", subtitle=subtitle) == subtitle


def test_a_subtitle_that_is_only_the_title_is_not_used() -> None:
    assert not is_real_sentence("Episode 9: Lost and Found!", "Episode 9: Lost and Found!")
    assert not is_real_sentence("Lost and Found", "9: Lost and Found")
    assert not is_real_sentence("Kubernetes, Helm, Argo", "")
    assert is_real_sentence("We look at how caches fail under load.", "Caches")


def test_title_only_notes_give_no_summary() -> None:
    assert summary("<p>Warm Caches</p>", title="Warm Caches") == ""


# --- sponsors, affiliates, hosting footers --------------------------------------------------


def test_sponsor_block_never_reaches_the_summary() -> None:
    notes = (
        "<p>We rebuild the build server and regret nothing.</p>"
        "<p>Sponsored By:</p><ul><li>"
        '<a href="https://sponsor.example/">Cloud Academy</a>: learn the cloud, get a raise.'
        "</li></ul><p>Links:</p><ul><li>Build farms</li></ul>"
    )
    assert summary(notes) == "We rebuild the build server and regret nothing."


def test_affiliate_and_sponsor_lines_in_a_paragraph_are_cut_there() -> None:
    notes = (
        "Prices drop, fees rise, and we read your mail.\n\n"
        "Affiliate LINKS: Buy a thing - The best way to buy things\n"
        "Sponsor: https://host.example Promo Code: SAVE"
    )
    assert summary(notes) == "Prices drop, fees rise, and we read your mail."


def test_hosting_footer_is_no_summary() -> None:
    notes = (
        "<p>Two friends reread a paperback they loved at fifteen.</p><br>"
        '<p> Hosted on Acast. See <a href="https://acast.example/privacy">acast.example/privacy</a>'
        " for more information.</p>"
    )
    assert summary(notes) == "Two friends reread a paperback they loved at fifteen."
    assert summary('<p>Hosted on Acast. See <a href="https://a.example/p">a</a></p>') == ""


def test_producer_credits_after_the_lead_are_left_out() -> None:
    notes = (
        "From episode 90 of the Night Desk with Nils and Petra.\n\n"
        "Special thanks to this episode's producers: Olli K, Dame Petra, and many others!\n\n"
        "Listen live on Tuesdays."
    )
    assert (
        summary(notes)
        == "From episode 90 of the Night Desk with Nils and Petra. Listen live on Tuesdays."
    )


def test_links_after_the_lead_end_it_with_their_heading() -> None:
    notes = (
        "<p>Jo joins the show to talk about her weather app.</p>"
        "<h3>Links &amp; Show Notes</h3>"
        '<ul><li><a href="https://jo.example">Jo on the web</a></li></ul>'
        "<h3>More of us</h3><ul><li>Website - example.org</li></ul>"
    )
    assert summary(notes) == "Jo joins the show to talk about her weather app."


# --- sentence breaks ------------------------------------------------------------------------


def test_a_heading_keeps_a_sentence_break_from_its_paragraph() -> None:
    notes = (
        "<p><strong>Netzwerkalltag</strong></p>"
        "<p>Das Netz ist heute überall. Wir sprechen über Router und Geduld.</p>"
    )
    assert summary(notes, title="NA12 Netze") == (
        "Netzwerkalltag. Das Netz ist heute überall. Wir sprechen über Router und Geduld."
    )


def test_a_heading_before_an_image_and_a_text_paragraph_keeps_its_break() -> None:
    notes = (
        "<p><strong>Über das Übersetzen von Witzen</strong></p>"
        '<a href="https://show.example/art.jpg"><img src="https://show.example/art.jpg" alt=""></a>'
        "Witze übersetzen ist schwer.<br><br>Themen: Wortspiele; Reime"
    )
    assert summary(notes, title="X12 Witze") == (
        "Über das Übersetzen von Witzen. Witze übersetzen ist schwer. Themen: Wortspiele; Reime"
    )


def test_chapter_lines_stay_out_and_their_heading_gets_no_stop() -> None:
    notes = "We talk tests.\nChapters\n00:00 Intro\n05:10 Flaky tests"
    assert summary(notes) == "We talk tests."


def test_plain_prose_is_summarized_as_before() -> None:
    text = "One. " * 100
    assert summary(f"<p>{text}</p>") == " ".join(text.split())[:300].rstrip()


# --- the parser keeps itunes:subtitle, normalize uses it -------------------------------------

FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd">
<channel><title>Coder Hour</title><link>https://coderhour.example/</link>
<item><title>233: Schedulers</title><guid>ch-233</guid>
<pubDate>Mon, 02 Jun 2025 10:00:00 +0000</pubDate>
<itunes:subtitle>Tom sits down with a kernel maintainer to talk about scheduling.</itunes:subtitle>
<description><![CDATA[<p><strong>Our socials</strong><br><a href="https://social.example/@t">Tom</a></p>
<p>Sponsored By:</p><ul><li><a href="https://s.example">Host Co</a>: hosting.</li></ul>]]>
</description>
<enclosure url="https://cdn.coderhour.example/233.mp3" type="audio/mpeg" length="1"/>
</item></channel></rss>"""


def test_normalize_takes_the_subtitle_when_the_notes_open_with_links() -> None:
    source = FeedSource(url="https://coderhour.example/rss", slug="coder-hour")
    parsed = parse_feed(FEED, {}, source.url)
    assert parsed.items[0].subtitle.startswith("Tom sits down")
    episode = normalize_feed(source, parsed, (), NOW, source.url).episodes[0]
    assert episode.summary == "Tom sits down with a kernel maintainer to talk about scheduling."


# --- properties -----------------------------------------------------------------------------

_WORDS = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "Zs")), max_size=80
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_WORDS, max_size=8), _WORDS, _WORDS, st.integers(min_value=20, max_value=400))
def test_summary_is_bounded_and_never_holds_the_sponsor_block(
    paragraphs: list[str], title: str, subtitle: str, limit: int
) -> None:
    lead = "".join(f"<p>{p.replace('<', ' ')}</p>" for p in paragraphs)
    notes = notes_to_html(lead + "<p>Sponsored by: ZZSPONSORZZ, the best.</p>", None)
    got = episode_summary(notes, title, subtitle, limit)
    assert len(got) <= limit
    assert "ZZSPONSORZZ" not in got or "ZZSPONSORZZ" in subtitle
    assert got == " ".join(got.split())


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=400))
def test_any_notes_give_a_short_single_line(raw: str) -> None:
    got = episode_summary(notes_to_html(raw, None), "Title", "")
    assert len(got) <= 300
    assert "\n" not in got
