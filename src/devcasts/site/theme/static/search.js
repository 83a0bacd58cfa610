/*
 * devcasts in-browser search: the page's controls over static/search-engine.js.
 *
 * Markup contract (search.html writes it):
 *
 *   <html data-base="{base path, e.g. /devcasts/}">
 *   <form role="search"> <input id="search-input" name="q"> </form>
 *   <div id="search-results" aria-live="polite"></div>
 *   <script src="{base}static/search.js" defer></script>
 *
 * URL parameters: q (query), podcast, topic (filters, by slug), sort=newest, exact=1 (no
 * spelling correction). Nothing of the index is fetched until the search box is used (or
 * the URL carries a query); everything is fetched from the site itself. Text from the index is inserted as text, never as HTML.
 */
(function () {
  "use strict";

  var PAGE_SIZE = 10;
  var DELAY_MS = 150;
  var KIND_LABELS = { show: "Show", person: "Person", topic: "Topic" };
  var input = document.getElementById("search-input");
  var output = document.getElementById("search-results");
  if (!input || !output) {
    return;
  }
  var script = document.currentScript;
  var form = input.form;
  var base = siteBase();
  var state = { query: "", podcast: "", topic: "", sort: "", exact: false, shown: 0, answer: null };
  var controls = null;
  var enginePromise = null;
  var pending = 0;
  var timer = null;

  function siteBase() {
    var declared =
      document.documentElement.getAttribute("data-base") ||
      (script && script.getAttribute("data-base"));
    if (!declared && script && script.src) {
      declared = new URL("..", script.src).pathname;
    }
    declared = declared || "/";
    return declared.charAt(declared.length - 1) === "/" ? declared : declared + "/";
  }

  function engine() {
    if (!enginePromise) {
      var url = script && script.src ? new URL("search-engine.js", script.src).href : base + "static/search-engine.js";
      enginePromise = import(url).then(function (module) {
        return { module: module, engine: module.createEngine(base) };
      });
    }
    return enginePromise;
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

  function paragraph(className, parts) {
    var node = element("p", className);
    parts.forEach(function (part) {
      node.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    return node;
  }

  function say(message) {
    output.replaceChildren(element("p", "search-status", message));
  }

  function queryLink(text) {
    var link = element("a", "", text);
    var params = new URLSearchParams({ q: text });
    link.href = window.location.pathname + "?" + params.toString();
    link.addEventListener("click", function (event) {
      event.preventDefault();
      input.value = text;
      state.query = text;
      state.exact = false;
      writeUrl();
      searchNow();
    });
    return link;
  }

  // --- the URL ------------------------------------------------------------------------------

  function readUrl() {
    var params = new URLSearchParams(window.location.search);
    state.query = (params.get("q") || "").trim();
    state.podcast = params.get("podcast") || "";
    state.topic = params.get("topic") || "";
    state.sort = params.get("sort") === "newest" ? "newest" : "";
    state.exact = params.get("exact") === "1";
    input.value = state.query;
  }

  function writeUrl() {
    var params = new URLSearchParams();
    if (state.query) params.set("q", state.query);
    if (state.podcast) params.set("podcast", state.podcast);
    if (state.topic) params.set("topic", state.topic);
    if (state.sort) params.set("sort", state.sort);
    if (state.exact) params.set("exact", "1");
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  }

  // --- filters --------------------------------------------------------------------------------

  function buildControls(meta) {
    var box = element("div", "search-filters");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Filters");
    var made = {
      podcast: select("podcast", "Podcast", "All podcasts"),
      topic: select("topic", "Topic", "All topics"),
      sort: select("sort", "Sort", "Best match"),
    };
    made.sort.select.appendChild(new Option("Newest first", "newest"));
    made.sort.select.value = state.sort;
    Object.keys(made).forEach(function (name) {
      var control = made[name];
      box.appendChild(control.label);
      control.select.addEventListener("change", function () {
        state[name] = control.select.value;
        writeUrl();
        searchNow();
      });
    });
    output.parentNode.insertBefore(box, output);
    return { meta: meta, podcast: made.podcast.select, topic: made.topic.select, sort: made.sort.select };
  }

  function select(name, labelText, anyText) {
    var label = element("label", "search-filter");
    label.appendChild(element("span", "", labelText + " "));
    var box = element("select");
    box.name = name;
    box.appendChild(new Option(anyText, ""));
    label.appendChild(box);
    return { label: label, select: box };
  }

  // Each list offers what the current query has, with how many episodes each value gives.
  function fillOptions(box, choices, counts, chosen, anyText) {
    var options = [new Option(anyText, "")];
    choices
      .filter(function (choice) {
        return counts[choice[0]] || choice[0] === chosen;
      })
      .sort(function (a, b) {
        return a[1].localeCompare(b[1]);
      })
      .forEach(function (choice) {
        options.push(new Option(choice[1] + " (" + (counts[choice[0]] || 0) + ")", choice[0]));
      });
    box.replaceChildren.apply(box, options);
    box.value = chosen;
  }

  // Counts the engine left out (no filter chosen: it did not need the facets) come once the
  // first results are shown; until then the lists offer only their "All" choice.
  function updateControls(answer) {
    var meta = controls.meta;
    var counts = answer.counts || { podcast: {}, topic: {} };
    fillOptions(controls.podcast, meta.podcasts, counts.podcast, state.podcast, "All podcasts");
    fillOptions(controls.topic, meta.topics, counts.topic, state.topic, "All topics");
    controls.sort.value = state.sort;
  }

  function fillCounts(loaded, answer, ticket) {
    if (answer.counts) {
      return;
    }
    loaded.engine
      .counts(answer)
      .then(function (counts) {
        if (ticket === pending) {
          answer.counts = counts;
          updateControls(answer);
        }
      })
      .catch(function () {}); // the lists keep their "All" choice
  }

  // --- searching ----------------------------------------------------------------------------

  function run() {
    window.clearTimeout(timer);
    timer = window.setTimeout(searchNow, DELAY_MS);
  }

  function searchNow() {
    window.clearTimeout(timer);
    if (!state.query && !state.podcast && !state.topic) {
      output.replaceChildren();
      return;
    }
    var ticket = ++pending;
    engine()
      .then(function (loaded) {
        return loaded.engine.meta().then(function (meta) {
          controls = controls || buildControls(meta);
          return loaded.engine
            .search(state.query, {
              podcast: state.podcast,
              topic: state.topic,
              sort: state.sort,
              exact: state.exact,
            })
            .then(function (answer) {
              return { loaded: loaded, answer: answer };
            });
        });
      })
      .then(function (result) {
        if (ticket !== pending) {
          return; // a newer search replaced this one
        }
        state.answer = result.answer;
        state.shown = 0;
        updateControls(result.answer);
        return Promise.resolve(show(result.loaded, result.answer, ticket)).then(function () {
          fillCounts(result.loaded, result.answer, ticket);
        });
      })
      .catch(function () {
        say(
          "Search is not available here: the search index has not been built, " +
            "or this page was opened as a file. Serve the site (python build.py serve)."
        );
      });
  }

  function show(loaded, answer, ticket) {
    var parts = [];
    parts.push.apply(parts, notices(answer));
    if (answer.entities.length) {
      parts.push(entityRow(answer.entities));
    }
    if (!answer.total) {
      output.replaceChildren.apply(output, parts);
      return;
    }
    var count = answer.total + (answer.total === 1 ? " episode" : " episodes");
    parts.push(element("p", "search-status", count));
    parts.push(element("ol", "search-list"));
    output.replaceChildren.apply(output, parts);
    return more(loaded, ticket);
  }

  function notices(answer) {
    var query = answer.query;
    if (!answer.total) {
      var found = [element("p", "search-status", query ? "No episodes match \u201c" + query + "\u201d." : "No episodes.")];
      if (answer.suggestion) {
        found.push(paragraph("search-status", ["Did you mean ", queryLink(answer.suggestion), "?"]));
      }
      return found;
    }
    var said = [];
    var asked = answer.corrected ? answer.suggestion : query;
    if (answer.corrected) {
      said.push(
        paragraph("search-status search-corrected", [
          "Showing results for \u201c" + answer.suggestion + "\u201d. Search instead for ",
          exactLink(query),
          ".",
        ])
      );
    }
    if (answer.partial) {
      said.push(
        element(
          "p",
          "search-status search-partial",
          "No episode has all of \u201c" + asked + "\u201d; showing episodes with " +
            answer.partial.matched + " of " + answer.partial.words + " words."
        )
      );
    }
    return said;
  }

  // The query as typed, searched as typed (exact=1: no spelling correction).
  function exactLink(text) {
    var link = element("a", "", "\u201c" + text + "\u201d");
    link.href = window.location.pathname + "?" + new URLSearchParams({ q: text, exact: "1" }).toString();
    link.addEventListener("click", function (event) {
      event.preventDefault();
      state.exact = true;
      writeUrl();
      searchNow();
    });
    return link;
  }

  function entityRow(entities) {
    var list = element("ul", "search-entities");
    list.setAttribute("aria-label", "Shows, people and topics");
    entities.forEach(function (entity) {
      var href = safeHref(entity.path);
      if (!href) {
        return;
      }
      var item = element("li", "search-entity search-entity-" + entity.kind);
      var link = element("a");
      link.href = href;
      link.appendChild(element("span", "search-entity-kind", KIND_LABELS[entity.kind] || entity.kind));
      link.appendChild(element("span", "search-entity-name", entity.name));
      var episodes = entity.count + (entity.count === 1 ? " episode" : " episodes");
      link.appendChild(element("span", "search-entity-count", episodes));
      item.appendChild(link);
      list.appendChild(item);
    });
    return list;
  }

  function more(loaded, ticket) {
    var list = output.querySelector("ol.search-list");
    var answer = state.answer;
    var next = answer.hits.slice(state.shown, state.shown + PAGE_SIZE);
    state.shown += next.length;
    var old = output.querySelector("button.search-more");
    if (old) {
      old.remove();
    }
    var marks = markTerms(loaded.module, answer);
    return loaded.engine.documents(next).then(function (records) {
      if (ticket !== pending) {
        return;
      }
      records.forEach(function (record) {
        list.appendChild(resultItem(record, marks));
      });
      if (state.shown < answer.hits.length) {
        var button = element("button", "search-more", "More results");
        button.type = "button";
        button.addEventListener("click", function () {
          more(loaded, ticket);
        });
        output.appendChild(button);
      }
    });
  }

  function markTerms(module, answer) {
    var words = module.queryWords(module.parseQuery(answer.corrected ? answer.suggestion : answer.query));
    var terms = new Set();
    words.forEach(function (word) {
      terms.add(word);
      terms.add(module.stem(word));
    });
    return { terms: terms, stem: module.stem, tokenize: module.tokenize };
  }

  function safeHref(path) {
    var text = String(path || "");
    return /^(?![/\\])(?!.*\.\.)[A-Za-z0-9._~%/-]*$/.test(text) ? base + text : null;
  }

  function resultItem(record, marks) {
    var item = element("li", "search-result");
    var cover = coverPicture(record.image);
    if (cover) {
      item.appendChild(cover);
    }
    var heading = element("h2", "search-title");
    var href = safeHref(record.path);
    var link = element("a", "", record.title || "Untitled episode");
    if (href) {
      link.href = href;
    }
    heading.appendChild(link);
    item.appendChild(heading);
    var details = [record.podcast, record.date, record.duration].filter(Boolean);
    if (details.length) {
      item.appendChild(element("p", "search-meta", details.join(" \u00b7 ")));
    }
    if (record.summary) {
      var excerpt = element("p", "search-excerpt");
      appendMarked(excerpt, record.summary, marks);
      item.appendChild(excerpt);
    }
    if (record.topics.length) {
      item.appendChild(element("p", "search-topics", record.topics.join(", ")));
    }
    var play = playButton(record, href);
    if (play) {
      item.appendChild(play);
    }
    return item;
  }

  // The cover's small JPEG copy, with its WebP copies (art/<key>-96.jpg: -96.webp, -192.webp);
  // always a file of this site (safeHref), so a result asks no other host.
  function coverPicture(path) {
    var src = safeHref(path);
    if (!src) {
      return null;
    }
    var picture = element("picture", "cover card-art");
    var named = /-96\.jpg$/.test(src);
    if (named) {
      var source = document.createElement("source");
      source.type = "image/webp";
      source.srcset = src.replace(/-96\.jpg$/, "-96.webp") + " 1x, " + src.replace(/-96\.jpg$/, "-192.webp") + " 2x";
      picture.appendChild(source);
    }
    var img = document.createElement("img");
    img.src = src;
    img.width = 96;
    img.height = 96;
    img.alt = "";
    img.loading = "lazy";
    img.decoding = "async";
    picture.appendChild(img);
    return picture;
  }

  // As play_button.html writes it on the pages; static/player.js plays it.
  function playButton(record, href) {
    if (!href || !/^https?:\/\//i.test(record.audio || "")) {
      return null;
    }
    var title = record.title || "Untitled episode";
    var button = element("button", "play-button");
    button.type = "button";
    button.dataset.audio = record.audio;
    button.dataset.show = record.podcast || "";
    button.dataset.page = href;
    button.appendChild(element("span", "play-label", "Play"));
    button.appendChild(element("span", "play-title visually-hidden", " " + title));
    return button;
  }

  // The summary with the query's words marked (by their stems: "deploys" for "deploy").
  function appendMarked(target, text, marks) {
    var at = 0;
    var pattern = /[\p{L}\p{N}_]+(?:\.?[\p{L}\p{N}_]+)*/gu;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var word = match[0].toLowerCase();
      if (marks.terms.has(word) || marks.terms.has(marks.stem(word))) {
        target.appendChild(document.createTextNode(text.slice(at, match.index)));
        target.appendChild(element("mark", "", match[0]));
        at = match.index + match[0].length;
      }
    }
    target.appendChild(document.createTextNode(text.slice(at)));
  }

  // --- starting -------------------------------------------------------------------------------

  function start() {
    readUrl();
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        state.query = input.value.trim();
        state.exact = false;
        writeUrl();
        searchNow();
      });
    }
    input.addEventListener("input", function () {
      state.query = input.value.trim();
      state.exact = false;
      writeUrl();
      run();
    });
    input.addEventListener("focus", function () {
      engine(); // the engine's code only; the index waits for a query
    });
    if (state.query || state.podcast || state.topic) {
      say("Searching\u2026");
      searchNow();
    }
  }

  start();
})();
