// Chapter links seek the episode's player. Without JavaScript they still open the audio
// file at the chapter's time (a #t= media fragment), so this is an enhancement only.
(function () {
  "use strict";
  var audio = document.getElementById("player");
  if (!audio) return;
  var links = Array.prototype.slice.call(document.querySelectorAll("a.chapter[data-start]"));

  function seek(event) {
    var start = Number(this.getAttribute("data-start"));
    if (!isFinite(start) || start < 0) return;
    event.preventDefault();
    audio.currentTime = start;
    var playing = audio.play();
    // A refused autoplay or a missing file is the listener's to see in the player, not an error.
    if (playing && typeof playing.catch === "function") playing.catch(function () {});
  }

  function markCurrent() {
    var current = null;
    links.forEach(function (link) {
      if (Number(link.getAttribute("data-start")) <= audio.currentTime + 0.25) current = link;
    });
    links.forEach(function (link) {
      if (link === current) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
  }

  // A page address ending in #t=SECONDS (a shared moment) starts the player there.
  var moment = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
  if (moment) audio.currentTime = Number(moment[1]);

  // Timestamps in the show notes and a transcript's times are #t= links: they seek too (only
  // chapters are marked as the current one), and keep the moment in the address to share.
  var stamps = document.querySelectorAll("a.seek[data-start]");
  Array.prototype.forEach.call(stamps, function (link) {
    link.addEventListener("click", function (event) {
      seek.call(link, event);
      if (window.history && history.replaceState) history.replaceState(null, "", link.getAttribute("href"));
    });
  });

  // A #t= address typed or followed to this page while it is open.
  window.addEventListener("hashchange", function () {
    var moment = /^#t=(\d+(?:\.\d+)?)$/.exec(window.location.hash);
    if (moment) audio.currentTime = Number(moment[1]);
  });

  links.forEach(function (link) { link.addEventListener("click", seek); });
  audio.addEventListener("timeupdate", markCurrent);
  audio.addEventListener("seeked", markCurrent);
})();
