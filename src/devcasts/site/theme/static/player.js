// The player bar (built here, so pages without scripts carry none of it): plays an episode
// from any page's play buttons and keeps playing across page loads. What it remembers stays in this visitor's localStorage: the
// episode in the bar, its position, the speed and whether it was playing, and a position per
// episode. Nothing is requested before the listener presses play (preload="none").
// Without JavaScript, the episode page's own <audio> and its #t= chapter links still work.
(function () {
  "use strict";
  if (!document.body || !document.body.querySelector) return;
  var bar = document.getElementById("player-bar") || document.body.appendChild(buildBar());

  // --- the bar's markup ----------------------------------------------------------------------

  function node(tag, attributes, children) {
    var made = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      made.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) {
      made.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return made;
  }

  function hiddenLabel(text) {
    return node("span", { class: "visually-hidden" }, [text]);
  }

  function buildBar() {
    var root = document.documentElement.getAttribute("data-base") || "/";
    var cover = root + "static/cover.png";
    var speeds = [0.8, 1, 1.1, 1.25, 1.5, 1.75, 2].map(function (speed) {
      var option = node("option", { value: String(speed) }, [speed + "\u00d7"]);
      if (speed === 1) option.setAttribute("selected", "");
      return option;
    });
    return node("section", { id: "player-bar", class: "player-bar", "aria-label": "Player", hidden: "" }, [
      node("div", { class: "player-bar-row" }, [
        node("img", { class: "player-art", src: cover, "data-fallback": cover, alt: "", width: "48", height: "48", loading: "lazy" }),
        node("p", { class: "player-now" }, [
          node("a", { class: "player-title", href: root }, ["Nothing playing"]),
          " ",
          node("span", { class: "player-show" }),
        ]),
        node("button", { type: "button", class: "player-close", "aria-label": "Close the player" }, [
          node("span", { "aria-hidden": "true" }, ["\u2715"]),
        ]),
      ]),
      node("div", { class: "player-bar-row player-controls" }, [
        node("button", { type: "button", class: "player-back", title: "Back 15 seconds (j or \u2190)", "aria-keyshortcuts": "j ArrowLeft" }, [
          node("span", { "aria-hidden": "true" }, ["\u221215"]),
          hiddenLabel("Back 15 seconds"),
        ]),
        node("button", { type: "button", class: "player-toggle", title: "Play or pause (k or space)", "aria-keyshortcuts": "k Space" }, ["Play"]),
        node("button", { type: "button", class: "player-forward", title: "Forward 30 seconds (l or \u2192)", "aria-keyshortcuts": "l ArrowRight" }, [
          node("span", { "aria-hidden": "true" }, ["+30"]),
          hiddenLabel("Forward 30 seconds"),
        ]),
        node("input", { type: "range", class: "player-seek", min: "0", max: "0", step: "1", value: "0", "aria-label": "Position" }),
        node("span", { class: "player-time" }, ["0:00"]),
        node("label", { class: "player-speed-label" }, ["Speed ", node("select", { class: "player-speed" }, speeds)]),
        node("button", { type: "button", class: "player-copy" }, ["Copy link at this time"]),
        node("span", { class: "player-status", role: "status" }),
      ]),
    ]);
  }

  var BACK = 15;
  var FORWARD = 30;
  var MIN_RESUME = 5; // seconds: a position earlier than this is not worth a "Resume at"
  var DONE_BEFORE_END = 20; // seconds: this close to the end, the episode counts as heard
  var MAX_POSITIONS = 300;
  var SPEEDS = [0.8, 1, 1.1, 1.25, 1.5, 1.75, 2];

  var base = document.documentElement.getAttribute("data-base") || "/";
  var stateKey = "devcasts:" + base + ":player";
  var positionsKey = "devcasts:" + base + ":positions";

  var ui = {
    art: bar.querySelector(".player-art"),
    title: bar.querySelector(".player-title"),
    show: bar.querySelector(".player-show"),
    toggle: bar.querySelector(".player-toggle"),
    back: bar.querySelector(".player-back"),
    forward: bar.querySelector(".player-forward"),
    seek: bar.querySelector(".player-seek"),
    time: bar.querySelector(".player-time"),
    speed: bar.querySelector(".player-speed"),
    copy: bar.querySelector(".player-copy"),
    close: bar.querySelector(".player-close"),
    status: bar.querySelector(".player-status"),
  };

  // The episode page's <audio> becomes the bar's, so only one element ever plays.
  var audio = document.getElementById("player");
  if (!audio || audio.tagName !== "AUDIO") {
    audio = document.createElement("audio");
    audio.id = "player";
  }
  audio.preload = "none";
  bar.appendChild(audio);

  var pageButton = document.querySelector(".player .play-button");
  var pageEpisode = pageButton ? buttonEpisode(pageButton) : null;
  var chapters = Array.prototype.slice.call(document.querySelectorAll("a.chapter[data-start]"));

  var current = null; // the episode in the bar
  var speed = 1;
  var blocked = false; // the browser refused to resume without a click
  var leaving = false; // the page is being left: a pause now is not the listener's
  var savedAt = 0;
  var chapterShown = null;
  var chapterFiles = {}; // chapters.json path -> [{start, title}], fetched on first play
  var positions = read(positionsKey) || {};

  // --- stored values: only ever read as text and checked URLs ------------------------------

  function read(key) {
    try {
      var value = JSON.parse(window.localStorage.getItem(key));
      return value && typeof value === "object" ? value : null;
    } catch (error) {
      return null;
    }
  }

  function write(key, value) {
    try {
      window.localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      // Storage full or refused (private browsing): the player still plays, it just forgets.
    }
  }

  function episodeFrom(data) {
    if (!data) return null;
    var audioUrl = String(data.audio || "");
    var page = String(data.page || "");
    if (!/^https?:\/\//i.test(audioUrl) || page.indexOf(base) !== 0) return null;
    var artwork = String(data.artwork || "");
    var chapterFile = String(data.chapters || "");
    return {
      audio: audioUrl,
      page: page,
      title: String(data.title || "Untitled episode"),
      show: String(data.show || ""),
      duration: Number(data.duration) > 0 ? Number(data.duration) : 0,
      // Local copies only: the bar never asks another host for an image.
      artwork: artwork.indexOf(base) === 0 ? artwork : "",
      chapters: chapterFile.indexOf(base) === 0 ? chapterFile : "",
    };
  }

  function buttonEpisode(button) {
    var title = button.querySelector(".play-title");
    var page = button.dataset.page || buttonPage(button);
    var data = Object.assign({}, button.dataset, {
      title: title ? title.textContent.trim() : "",
      page: page,
      // data-chapters is a path (search results) or, empty, says the file is beside the page.
      chapters: button.dataset.chapters || (button.hasAttribute("data-chapters") ? page + "chapters.json" : ""),
    });
    return episodeFrom(data);
  }

  // A card's button plays the episode its title links to; the episode page's, that page.
  function buttonPage(button) {
    var card = button.closest("article, li");
    var link = card && card.querySelector(":scope > h2 > a[href], :scope > h3 > a[href]");
    var href = link ? link.getAttribute("href") : window.location.pathname;
    try {
      return new URL(href, window.location.href).pathname.replace(/index\.html$/, "");
    } catch (error) {
      return "";
    }
  }

  // --- times -------------------------------------------------------------------------------

  function clock(seconds) {
    var whole = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(whole / 3600);
    var m = Math.floor((whole % 3600) / 60);
    var s = whole % 60;
    var mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(s).padStart(2, "0");
  }

  // "754", "754.5", "12:34" and "1:02:05"; null for anything else.
  function parseTime(text) {
    var parts = String(text).split(":");
    if (parts.length > 3) return null;
    var total = 0;
    for (var i = 0; i < parts.length; i++) {
      var last = i === parts.length - 1;
      if (!(last ? /^\d+(\.\d+)?$/ : /^\d+$/).test(parts[i])) return null;
      var part = Number(parts[i]);
      if (i > 0 && part >= 60) return null;
      total = total * 60 + part;
    }
    return total;
  }

  function timeInAddress() {
    return hashSeconds(window.location.hash);
  }

  // "#t=90", "#t=1:30" or "#t=0:01:30" -> 90; null for anything else.
  function hashSeconds(hash) {
    try {
      hash = decodeURIComponent(hash);
    } catch (error) {
      return null;
    }
    var match = /^#t=([0-9:.]+)$/.exec(hash);
    return match ? parseTime(match[1]) : null;
  }

  function duration() {
    return isFinite(audio.duration) && audio.duration > 0 ? audio.duration : current ? current.duration : 0;
  }

  // --- remembering -------------------------------------------------------------------------

  function remember() {
    if (!current) return;
    var at = audio.currentTime;
    var length = duration();
    delete positions[current.page]; // re-added last: the oldest are dropped first
    if (at >= MIN_RESUME && !(length && at > length - DONE_BEFORE_END) && !audio.ended) {
      positions[current.page] = Math.floor(at);
    }
    var pages = Object.keys(positions);
    for (var i = 0; i < pages.length - MAX_POSITIONS; i++) delete positions[pages[i]];
    write(positionsKey, positions);
    var playing = !audio.paused && !audio.ended;
    write(stateKey, { episode: current, position: at, speed: speed, playing: playing });
    savedAt = Date.now();
  }

  function rememberedPosition(episode) {
    var at = Number(positions[episode.page]);
    return at >= MIN_RESUME ? at : 0;
  }

  // --- the bar -----------------------------------------------------------------------------

  // Put an episode in the bar; no request is made until play (preload is none).
  function load(episode) {
    if (current && current.audio === episode.audio) {
      current = episode;
    } else {
      if (current) remember();
      current = episode;
      if (audio.getAttribute("src") !== episode.audio) audio.src = episode.audio;
    }
    audio.defaultPlaybackRate = speed;
    audio.playbackRate = speed;
    ui.title.textContent = episode.title;
    ui.title.href = episode.page;
    ui.show.textContent = episode.show;
    ui.art.src = episode.artwork || ui.art.getAttribute("data-fallback");
    blocked = false;
    ui.status.textContent = "";
    if (bar.hidden) {
      bar.hidden = false;
      makeRoom();
    }
    update();
  }

  // The fixed bar must not cover the end of the page.
  function makeRoom() {
    document.body.style.paddingBottom = bar.hidden ? "" : bar.offsetHeight + "px";
  }

  function play() {
    blocked = false;
    var playing = audio.play();
    if (playing && typeof playing.catch === "function") {
      playing.catch(function (error) {
        if (error && error.name === "NotAllowedError") {
          blocked = true; // one click on "Resume at" plays it
          update();
        }
      });
    }
  }

  function seekTo(seconds) {
    var length = duration();
    audio.currentTime = Math.max(0, length ? Math.min(seconds, length) : seconds);
    update();
  }

  function skip(seconds) {
    if (current) seekTo(audio.currentTime + seconds);
  }

  function playEpisode(episode) {
    if (!current || current.audio !== episode.audio) {
      load(episode);
      var at = rememberedPosition(episode);
      if (at) audio.currentTime = at;
    }
    play();
  }

  function update() {
    var at = audio.currentTime || 0;
    var length = duration();
    ui.time.textContent = length ? clock(at) + " / " + clock(length) : clock(at);
    ui.seek.max = String(Math.floor(length));
    ui.seek.value = String(Math.floor(at));
    ui.seek.setAttribute("aria-valuetext", length ? clock(at) + " of " + clock(length) : clock(at));
    var paused = audio.paused || audio.ended;
    ui.toggle.textContent = !paused ? "Pause" : blocked ? "Resume at " + clock(at) : "Play";
    labelButtons();
    markChapter();
  }

  // Every play button says what it would do: play, pause, or resume where the listener was.
  function labelButtons() {
    var buttons = document.querySelectorAll(".play-button");
    Array.prototype.forEach.call(buttons, function (button) {
      var episode = buttonEpisode(button);
      if (!episode) return;
      var isCurrent = current && current.audio === episode.audio;
      var at = isCurrent ? audio.currentTime : rememberedPosition(episode);
      var action = "Play";
      if (isCurrent && !audio.paused && !audio.ended) action = "Pause";
      else if (at >= MIN_RESUME) action = "Resume at " + clock(at);
      var label = button.querySelector(".play-label");
      if (label && label.textContent !== action) label.textContent = action;
      button.classList.toggle("is-playing", action === "Pause");
    });
  }

  // --- chapters on the episode's own page --------------------------------------------------

  function onPageEpisode() {
    return current && pageEpisode && current.audio === pageEpisode.audio;
  }

  function chapterNow() {
    if (!onPageEpisode()) return null;
    var found = null;
    chapters.forEach(function (link) {
      if (Number(link.getAttribute("data-start")) <= audio.currentTime + 0.25) found = link;
    });
    return found;
  }

  // Elsewhere, the episode's chapters.json (on this site) names the chapter being played.
  function chapterFromFile() {
    var list = current && current.chapters && chapterFiles[current.chapters];
    var found = null;
    (Array.isArray(list) ? list : []).forEach(function (chapter) {
      if (chapter.start <= audio.currentTime + 0.25) found = chapter.title;
    });
    return found;
  }

  function fetchChapters(path) {
    if (!path || chapterFiles[path] || !window.fetch) return;
    chapterFiles[path] = "loading";
    fetch(path)
      .then(function (response) {
        return response.ok ? response.json() : { chapters: [] };
      })
      .then(function (data) {
        var list = data && Array.isArray(data.chapters) ? data.chapters : [];
        chapterFiles[path] = list
          .filter(function (c) {
            return c && isFinite(c.startTime) && typeof c.title === "string";
          })
          .map(function (c) {
            return { start: Number(c.startTime), title: c.title };
          });
        markChapter();
      })
      .catch(function () {
        chapterFiles[path] = [];
      });
  }

  function markChapter() {
    var now = chapterNow();
    chapters.forEach(function (link) {
      if (link === now) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
    var title = now ? (now.querySelector(".chapter-title") || now).textContent : chapterFromFile();
    if (title !== chapterShown) {
      chapterShown = title;
      if (!audio.paused) describe();
    }
  }

  // --- the Media Session (lock screen, headphones, media keys) -----------------------------

  function describe() {
    if (!current || !("mediaSession" in navigator) || typeof MediaMetadata === "undefined") return;
    var artwork = new URL(current.artwork || ui.art.getAttribute("data-fallback"), window.location.href);
    navigator.mediaSession.metadata = new MediaMetadata({
      title: current.title,
      artist: current.show,
      album: chapterShown || current.show,
      artwork: [{ src: artwork.href }],
    });
    positionState();
  }

  function positionState() {
    var session = navigator.mediaSession;
    var length = duration();
    if (!session || !session.setPositionState || !length) return;
    try {
      session.setPositionState({
        duration: length,
        playbackRate: audio.playbackRate || 1,
        position: Math.min(audio.currentTime || 0, length),
      });
    } catch (error) {
      // A duration the browser disagrees with: the lock screen just shows no progress.
    }
  }

  function handleMediaKeys() {
    if (!("mediaSession" in navigator)) return;
    var handlers = {
      play: play,
      pause: function () {
        audio.pause();
      },
      seekbackward: function (details) {
        skip(-((details && details.seekOffset) || BACK));
      },
      seekforward: function (details) {
        skip((details && details.seekOffset) || FORWARD);
      },
      seekto: function (details) {
        if (details && isFinite(details.seekTime)) seekTo(details.seekTime);
      },
    };
    Object.keys(handlers).forEach(function (action) {
      try {
        navigator.mediaSession.setActionHandler(action, handlers[action]);
      } catch (error) {
        // An action this browser does not know.
      }
    });
  }

  // --- copying a link to this moment ---------------------------------------------------------

  function copyLink() {
    if (!current) return;
    var link = new URL(current.page, window.location.href);
    link.hash = "t=" + clock(audio.currentTime);
    ui.copy.setAttribute("data-link", link.href);
    var done = function () {
      ui.status.textContent = "Link copied";
      setTimeout(function () {
        if (ui.status.textContent === "Link copied") ui.status.textContent = "";
      }, 4000);
    };
    var shown = function () {
      ui.status.textContent = link.href;
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(link.href).then(done, shown);
    } else {
      shown();
    }
  }

  // --- wiring --------------------------------------------------------------------------------

  function typing(target) {
    if (!target || !target.tagName) return false;
    return /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) || target.isContentEditable;
  }

  function onKey(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    if (typing(event.target)) return;
    var episode = current || pageEpisode;
    if (!episode) return;
    var key = event.key;
    // Space scrolls the page until something is in the bar, and presses a focused control.
    if (key === " " && (!current || (event.target.closest && event.target.closest("button, a, summary")))) return;
    if (!current && key !== "k") return;
    if (key === " " || key === "k") {
      if (!current || audio.paused) playEpisode(episode);
      else audio.pause();
    } else if (key === "j" || key === "ArrowLeft") {
      skip(-BACK);
    } else if (key === "l" || key === "ArrowRight") {
      skip(FORWARD);
    } else {
      return;
    }
    event.preventDefault();
  }

  function onClick(event) {
    var target = event.target.closest ? event.target.closest(".play-button, a[data-start], a.seek") : null;
    if (!target) return;
    if (target.classList.contains("play-button")) {
      var episode = buttonEpisode(target);
      if (!episode) return;
      if (current && current.audio === episode.audio && !audio.paused) audio.pause();
      else playEpisode(episode);
      return;
    }
    // A chapter or a timestamp in the notes or transcript: seek this page's episode.
    var start = target.hasAttribute("data-start")
      ? Number(target.getAttribute("data-start"))
      : hashSeconds(target.getAttribute("href") || ""); // the notes' stamps hold their time in the link
    if (!pageEpisode || start === null || !isFinite(start) || start < 0) return;
    event.preventDefault();
    if (!current || current.audio !== pageEpisode.audio) load(pageEpisode);
    seekTo(start);
    play();
    if (target.classList.contains("seek") && window.history && history.replaceState) {
      history.replaceState(null, "", target.getAttribute("href")); // the moment, to share
    }
  }

  // A #t= address (seconds, mm:ss or hh:mm:ss) cues this page's episode there, paused.
  function cueFromAddress() {
    var at = timeInAddress();
    if (at === null || !pageEpisode) return false;
    if (!current || current.audio !== pageEpisode.audio) load(pageEpisode);
    seekTo(at);
    return true;
  }

  function restore() {
    var state = read(stateKey);
    var value = Number(state && state.speed);
    if (SPEEDS.indexOf(value) >= 0) speed = value;
    ui.speed.value = String(speed);
    if (cueFromAddress()) return;
    var episode = state && episodeFrom(state.episode);
    if (!episode) return;
    load(episode);
    var at = Number(state.position);
    if (at > 0) audio.currentTime = at;
    if (state.playing) play();
    update();
  }

  ui.toggle.addEventListener("click", function () {
    if (!current) return;
    if (audio.paused || audio.ended) play();
    else audio.pause();
  });
  ui.back.addEventListener("click", function () {
    skip(-BACK);
  });
  ui.forward.addEventListener("click", function () {
    skip(FORWARD);
  });
  ui.seek.addEventListener("input", function () {
    seekTo(Number(ui.seek.value));
  });
  ui.speed.addEventListener("change", function () {
    var value = Number(ui.speed.value);
    if (SPEEDS.indexOf(value) < 0) return;
    speed = value;
    audio.defaultPlaybackRate = value;
    audio.playbackRate = value;
  });
  ui.copy.addEventListener("click", copyLink);
  ui.close.addEventListener("click", function () {
    audio.pause();
    remember();
    current = null;
    write(stateKey, { speed: speed });
    bar.hidden = true;
    makeRoom();
    labelButtons();
  });

  audio.addEventListener("play", function () {
    blocked = false;
    if (current && !onPageEpisode()) fetchChapters(current.chapters);
    describe();
    remember();
    update();
  });
  audio.addEventListener("pause", function () {
    if (leaving) return; // leaving the page: it was playing, and plays on the next one
    remember();
    update();
  });
  audio.addEventListener("ended", function () {
    remember();
    update();
  });
  audio.addEventListener("timeupdate", function () {
    if (Date.now() - savedAt > 1000) remember();
    update();
  });
  ["loadedmetadata", "durationchange", "seeked", "ratechange"].forEach(function (name) {
    audio.addEventListener(name, function () {
      if (name === "ratechange") remember();
      positionState();
      update();
    });
  });
  audio.addEventListener("error", function () {
    if (current) ui.status.textContent = "The audio could not be played.";
  });

  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKey);
  window.addEventListener("hashchange", cueFromAddress);
  window.addEventListener("pagehide", function () {
    remember();
    leaving = true;
  });
  window.addEventListener("pageshow", function () {
    leaving = false; // back from the back-forward cache
  });
  window.addEventListener("resize", makeRoom);
  // Search results arrive after the page: label their play buttons too.
  var results = document.getElementById("search-results");
  if (results && typeof MutationObserver === "function") {
    new MutationObserver(labelButtons).observe(results, { childList: true, subtree: true });
  }

  handleMediaKeys();
  restore();
  labelButtons();
})();
