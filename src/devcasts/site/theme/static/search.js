/*
 * devcasts in-browser search, on top of Pagefind bundles built by devcasts.browser_index.
 *
 * Markup contract (the renderer writes it; this script and browser_index.py rely on it):
 *
 *   search/index.html
 *     <html data-base="{base path, e.g. /devcasts/}">   (or data-base on this script tag)
 *     <form role="search"> <input id="search-input" name="q"> </form>
 *     <div id="search-results" aria-live="polite"></div>
 *     <script src="{base}static/search.js" defer></script>
 *
 *   every episode page (podcasts/<podcast>/<episode>/index.html)
 *     data-pagefind-body                      on the element holding the episode
 *     data-pagefind-sort="date:YYYY-MM-DD"     on that element (shard year, sort by date)
 *     data-pagefind-meta="title"              on the title
 *     data-pagefind-meta="date:YYYY-MM-DD"     shown in results when present
 *     data-pagefind-filter="podcast"           around the podcast's name
 *     data-pagefind-filter="topic"             on each topic's name
 *   Pages without data-pagefind-body are not searchable.
 *
 *   {base}pagefind/shards.json  {"shards": ["2025", "2024", ...]}: one Pagefind bundle per
 *   shard in {base}pagefind/<shard>/; the first is loaded, the others merged (mergeIndex).
 *
 * URL parameters: q (query), podcast, topic (filters), sort=newest. Everything is fetched
 * from the site itself: no external requests. Text from the index is inserted as text, never
 * as HTML; Pagefind's <mark> highlights are rebuilt as elements.
 */
(function () {
  "use strict";

  var PAGE_SIZE = 20;
  var input = document.getElementById("search-input");
  var output = document.getElementById("search-results");
  if (!input || !output) {
    return;
  }
  var form = input.form;
  var base = siteBase();
  var state = { query: "", podcast: "", topic: "", sort: "", shown: 0, results: [] };

  function siteBase() {
    var script = document.currentScript;
    var declared =
      document.documentElement.getAttribute("data-base") ||
      (script && script.getAttribute("data-base"));
    if (!declared && script && script.src) {
      declared = new URL(".", new URL("..", script.src)).pathname;
    }
    declared = declared || "/";
    return declared.charAt(declared.length - 1) === "/" ? declared : declared + "/";
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function say(message) {
    output.replaceChildren(element("p", "search-status", message));
  }

  // Relevance: the shards merged with equal weight, results ordered by score. Newest: a
  // second copy of the module whose merged shards weigh 0, so Pagefind's stable score sort
  // keeps the shards in manifest order (newest year first), each sorted by date.
  var shardsPromise = null;
  var bundles = {};

  function shards() {
    shardsPromise =
      shardsPromise ||
      fetch(base + "pagefind/shards.json")
        .then(function (response) {
          if (!response.ok) {
            throw new Error("no index");
          }
          return response.json();
        })
        .then(function (manifest) {
          var names = (manifest && manifest.shards) || [];
          if (!names.length) {
            throw new Error("empty index");
          }
          return names;
        });
    return shardsPromise;
  }

  function bundlePath(shard) {
    return base + "pagefind/" + encodeURIComponent(shard) + "/";
  }

  function loadBundle(newest) {
    var key = newest ? "newest" : "relevance";
    bundles[key] =
      bundles[key] ||
      shards().then(function (names) {
        var first = bundlePath(names[0]);
        return import(first + "pagefind.js" + (newest ? "?order=newest" : "")).then(
          function (module) {
            var ready = module.options({ basePath: first, baseUrl: base });
            names.slice(1).forEach(function (shard) {
              ready = ready.then(function () {
                return module.mergeIndex(bundlePath(shard), {
                  baseUrl: base,
                  indexWeight: newest ? 0 : 1,
                });
              });
            });
            return ready.then(function () {
              return module;
            });
          }
        );
      });
    return bundles[key];
  }

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    state.query = (params.get("q") || "").trim();
    state.podcast = params.get("podcast") || "";
    state.topic = params.get("topic") || "";
    state.sort = params.get("sort") === "newest" ? "newest" : "";
    input.value = state.query;
  }

  function writeUrl() {
    var params = new URLSearchParams();
    if (state.query) params.set("q", state.query);
    if (state.podcast) params.set("podcast", state.podcast);
    if (state.topic) params.set("topic", state.topic);
    if (state.sort) params.set("sort", state.sort);
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  }

  function buildControls(filters) {
    var box = element("div", "search-filters");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Filters");
    var podcast = select("podcast", "Podcast", "All podcasts", filters.podcast || {});
    var topic = select("topic", "Topic", "All topics", filters.topic || {});
    var sort = select("sort", "Sort", "Best match", { newest: null });
    sort.select.options[1].textContent = "Newest first";
    [podcast, topic, sort].forEach(function (control) {
      box.appendChild(control.label);
      control.select.addEventListener("change", function () {
        state[control.name] = control.select.value;
        writeUrl();
        run();
      });
    });
    output.parentNode.insertBefore(box, output);
    return { podcast: podcast.select, topic: topic.select, sort: sort.select };
  }

  function select(name, labelText, anyText, counts) {
    var label = element("label", "search-filter");
    label.appendChild(element("span", "", labelText + " "));
    var box = element("select");
    box.name = name;
    box.appendChild(new Option(anyText, ""));
    Object.keys(counts)
      .sort(function (a, b) {
        return a.localeCompare(b);
      })
      .forEach(function (value) {
        var count = counts[value];
        box.appendChild(new Option(count === null ? value : value + " (" + count + ")", value));
      });
    box.value = state[name] || "";
    label.appendChild(box);
    return { name: name, label: label, select: box };
  }

  function options(newest) {
    var filters = {};
    if (state.podcast) filters.podcast = state.podcast;
    if (state.topic) filters.topic = state.topic;
    var chosen = { filters: filters };
    if (newest) {
      chosen.sort = { date: "desc" };
    }
    return chosen;
  }

  var pending = 0;
  var timer = null;

  function run() {
    window.clearTimeout(timer);
    timer = window.setTimeout(searchNow, 200);
  }

  function searchNow() {
    var hasFilter = state.podcast || state.topic;
    if (!state.query && !hasFilter) {
      output.replaceChildren();
      return;
    }
    // Without words there is no relevance: list what the filters match, newest first.
    var newest = state.sort === "newest" || !state.query;
    var ticket = ++pending;
    loadBundle(newest)
      .then(function (module) {
        return module.search(state.query || null, options(newest));
      })
      .then(function (search) {
        if (ticket !== pending) {
          return; // a newer search replaced this one
        }
        state.results = search.results || [];
        state.shown = 0;
        output.replaceChildren();
        if (!state.results.length) {
          say(state.query ? "No episodes match \u201c" + state.query + "\u201d." : "No episodes.");
          return;
        }
        var count = state.results.length;
        output.appendChild(element("p", "search-status", count + (count === 1 ? " episode" : " episodes")));
        output.appendChild(element("ol", "search-list"));
        return more();
      })
      .catch(function () {
        say("Search failed. Try another query.");
      });
  }

  function more() {
    var list = output.querySelector("ol.search-list");
    var next = state.results.slice(state.shown, state.shown + PAGE_SIZE);
    state.shown += next.length;
    var old = output.querySelector("button.search-more");
    if (old) {
      old.remove();
    }
    return Promise.all(
      next.map(function (result) {
        return result.data();
      })
    ).then(function (pages) {
      pages.forEach(function (data) {
        list.appendChild(resultItem(data));
      });
      if (state.shown < state.results.length) {
        var button = element("button", "search-more", "More results");
        button.type = "button";
        button.addEventListener("click", function () {
          more();
        });
        output.appendChild(button);
      }
    });
  }

  function safeHref(url) {
    var text = String(url || "");
    return /^\/(?!\/)/.test(text) ? text : base;
  }

  function resultItem(data) {
    var meta = data.meta || {};
    var filters = data.filters || {};
    var item = element("li", "search-result");
    var heading = element("h2", "search-title");
    var link = element("a", "", meta.title || data.url);
    link.href = safeHref(data.url);
    heading.appendChild(link);
    item.appendChild(heading);
    var details = [];
    if (filters.podcast && filters.podcast.length) details.push(filters.podcast.join(", "));
    if (meta.date) details.push(meta.date);
    if (details.length) {
      item.appendChild(element("p", "search-meta", details.join(" \u00b7 ")));
    }
    var excerpt = element("p", "search-excerpt");
    appendExcerpt(excerpt, data.excerpt || "");
    item.appendChild(excerpt);
    if (filters.topic && filters.topic.length) {
      item.appendChild(element("p", "search-topics", filters.topic.join(", ")));
    }
    return item;
  }

  // Pagefind's excerpt is escaped text with <mark> around matches. Parse it in an inert
  // document and copy only its text and the marks.
  function appendExcerpt(target, html) {
    var doc = new DOMParser().parseFromString("<body>" + html + "</body>", "text/html");
    doc.body.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        target.appendChild(element("mark", "", node.textContent));
      } else {
        target.appendChild(document.createTextNode(node.textContent || ""));
      }
    });
  }

  function start() {
    readUrl();
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        state.query = input.value.trim();
        writeUrl();
        run();
      });
    }
    input.addEventListener("input", function () {
      state.query = input.value.trim();
      writeUrl();
      run();
    });
    if (state.query) {
      say("Searching\u2026");
    }
    loadBundle(false)
      .then(function (module) {
        return module.filters().catch(function () {
          return {};
        });
      })
      .then(function (filters) {
        buildControls(filters || {});
        run();
      })
      .catch(function () {
        say(
          "Search is not available here: the search index has not been built, " +
            "or this page was opened as a file. Serve the site (python build.py serve)."
        );
      });
  }

  start();
})();
