/*
 * devcasts in-browser search engine: the index files written by devcasts.search.browser_index,
 * ranked as the terminal's whoosh search ranks (BM25F, same fields, weights and statistics).
 *
 *   const engine = createEngine(base);          // nothing is fetched yet
 *   const answer = await engine.search("kubernetes postgres", { podcast, topic, sort, exact });
 *   const docs = await engine.documents(answer.hits.slice(0, 10));
 *
 * A query is words, "quoted phrases" (their words, in the same field), `a OR b`, `-word` or
 * `NOT word`, and `field:word` (title, podcast/show, person/guest/host/people, notes/text,
 * topic). A word the index does not know matches nothing: there are no prefix guesses. When
 * nothing matches, the engine tries, as the terminal does: the closest known spelling of the
 * unknown words (unless `exact`), then the episodes with the most of the words.
 *
 * Everything is fetched from {base}search-index/; nothing else.
 */
import { stem } from "./stem.js";

export { stem };

const INDEX = "search-index/";
const FIELD_ALIASES = {
  title: ["title"],
  podcast: ["podcast"],
  show: ["podcast"],
  person: ["people"],
  guest: ["people"],
  host: ["people"],
  people: ["people"],
  notes: ["notes"],
  text: ["notes"],
  topic: ["tags"],
  tags: ["tags"],
};
const OPERATORS = new Set(["AND", "OR", "NOT"]);
// whoosh's RegexTokenizer: runs of word characters, dots inside a word kept ("fly.io").
const TOKEN = /[\p{L}\p{N}_*]+(?:\.?[\p{L}\p{N}_*]+)*/gu;

export function tokenize(text) {
  return String(text || "").match(TOKEN) || [];
}

// --- reading the files ----------------------------------------------------------------------

function readVarint(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    if (at.pos >= bytes.length) throw new Error("truncated shard");
    const byte = bytes[at.pos++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return value;
    shift += 7;
  }
}

const utf8 = new TextDecoder("utf-8");

/** A binary file of the index, stored compressed (zlib's format: browser_index.py). */
function inflate(buffer) {
  const stream = new Blob([buffer]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Response(stream).arrayBuffer();
}

/** A term shard: term -> [{field, docs, counts, lengths}] (see browser_index.py). */
export function readShard(buffer) {
  const bytes = new Uint8Array(buffer);
  if (utf8.decode(bytes.subarray(0, 4)) !== "DCT2") throw new Error("not a term shard");
  const at = { pos: 4 };
  const terms = new Map();
  const count = readVarint(bytes, at);
  for (let n = 0; n < count; n++) {
    const size = readVarint(bytes, at);
    const term = utf8.decode(bytes.subarray(at.pos, at.pos + size));
    at.pos += size;
    const fields = [];
    for (;;) {
      if (at.pos >= bytes.length) throw new Error("truncated shard");
      const field = bytes[at.pos++];
      if (field === 0xff) break;
      const df = readVarint(bytes, at);
      readVarint(bytes, at); // the last document and the postings' bytes: for the build's
      readVarint(bytes, at); // updates, which append to them or step over them
      const docs = new Int32Array(df);
      const counts = new Int32Array(df);
      const lengths = new Uint8Array(df);
      let doc = 0;
      for (let i = 0; i < df; i++) {
        doc += readVarint(bytes, at);
        docs[i] = doc;
        counts[i] = readVarint(bytes, at);
        lengths[i] = bytes[at.pos++];
      }
      fields.push({ field, docs, counts, lengths });
    }
    terms.set(term, fields);
  }
  return terms;
}

// --- parsing a query ------------------------------------------------------------------------

/*
 * { required: [clause], excluded: [clause], all: bool }; a clause is a list of alternatives
 * (OR), an alternative a unit: { words: [word], fields: [name] | null }. A unit matches a
 * field when all its words are in it, as whoosh matches a phrase or a hyphenated word.
 */
export function parseQuery(text) {
  const parts = String(text || "").match(/-?"[^"]*"?|\S+/g) || [];
  const query = { required: [], excluded: [], all: false };
  let negate = false;
  let joinNext = false;
  for (const raw of parts) {
    if (OPERATORS.has(raw)) {
      if (raw === "NOT") negate = true;
      else if (raw === "OR") joinNext = query.required.length > 0 && !negate;
      else query.all = true;
      continue;
    }
    let part = raw;
    let excluded = negate;
    negate = false;
    if (part.length > 1 && part[0] === "-") {
      excluded = true;
      part = part.slice(1);
    }
    const unit = parseUnit(part);
    if (!unit) continue;
    if (excluded) {
      query.excluded.push([unit]);
    } else if (joinNext) {
      query.required[query.required.length - 1].push(unit);
    } else {
      query.required.push([unit]);
    }
    joinNext = false;
  }
  return query;
}

function parseUnit(part) {
  let fields = null;
  let text = part;
  const named = /^([a-z]+):(.+)$/.exec(part);
  if (named && FIELD_ALIASES[named[1]]) {
    fields = FIELD_ALIASES[named[1]];
    text = named[2];
  }
  const words = tokenize(text.replace(/"/g, " ").replace(/[*~]+(\d*)/g, " "));
  return words.length ? { words: words.map((w) => w.toLowerCase()), fields } : null;
}

/** The words of a parsed query, in order, without exclusions: for notes and marks. */
export function queryWords(query) {
  const words = [];
  for (const clause of query.required) for (const unit of clause) words.push(...unit.words);
  return words;
}

// --- the engine -----------------------------------------------------------------------------

export function createEngine(base, fetcher) {
  const get = fetcher || ((url, init) => fetch(url, init));
  const root = base + INDEX;
  let metaPromise = null;
  const shardPromises = new Map();
  const filePromises = new Map();

  function meta() {
    metaPromise =
      metaPromise ||
      get(root + "meta.json", { cache: "no-cache" }).then((response) => {
        if (!response.ok) throw new Error("no search index");
        return response.json();
      });
    return metaPromise;
  }

  function file(name, kind) {
    if (!filePromises.has(name)) {
      const loaded = meta().then((m) =>
        get(root + name + "?v=" + m.token).then((response) => {
          if (!response.ok) throw new Error("missing " + name);
          return kind === "json" ? response.json() : response.arrayBuffer().then(inflate);
        })
      );
      filePromises.set(name, loaded);
    }
    return filePromises.get(name);
  }

  function shardKey(m, term) {
    for (let size = Math.min(term.length, m.prefix); size > 0; size--) {
      const prefix = term.slice(0, size);
      if (Object.prototype.hasOwnProperty.call(m.shards, prefix)) return m.shards[prefix];
    }
    return null;
  }

  function shard(m, term) {
    const key = shardKey(m, term);
    if (key === null) return Promise.resolve(new Map());
    if (!shardPromises.has(key)) {
      shardPromises.set(key, file("t/" + key + ".bin", "deflated").then(readShard));
    }
    return shardPromises.get(key);
  }

  /** term -> postings per field, for every field term the query's words need. */
  async function postingsFor(m, query) {
    const wanted = new Map();
    const units = [...query.required.flat(), ...query.excluded.flat()];
    for (const unit of units) {
      for (const word of unit.words) {
        for (const term of fieldTerms(m, word)) if (term) wanted.set(term, null);
      }
    }
    await Promise.all(
      [...wanted.keys()].map((term) =>
        shard(m, term).then((terms) => wanted.set(term, terms.get(term) || []))
      )
    );
    return wanted;
  }

  async function facets(m) {
    const buffer = await file("facets.bin", "deflated");
    const n = m.documents;
    const podcastOf = new Uint16Array(n);
    const view = new DataView(buffer);
    for (let doc = 0; doc < n; doc++) podcastOf[doc] = view.getUint16(doc * 2, true);
    const size = (n + 7) >> 3;
    const topics = m.topics.map((_, t) => new Uint8Array(buffer, n * 2 + t * size, size));
    return { podcastOf, topics };
  }

  async function search(text, options) {
    const chosen = options || {};
    const m = await meta();
    // The facets (each document's podcast and topics: two bytes and more per episode, a
    // third of a megabyte at 100,000) are fetched first only to filter; without a filter the
    // results come without them, and their counts after (`counts`).
    const filtered = Boolean(chosen.podcast || chosen.topic);
    const [facet, entities] = await Promise.all([
      filtered ? facets(m) : null,
      file("entities.json", "json").catch(() => []),
    ]);
    const query = parseQuery(text);
    const answer = {
      query: text,
      hits: [],
      total: 0,
      partial: null,
      suggestion: null,
      corrected: false,
      counts: null, // set by finish
      entities: matchEntities(entities, text),
    };
    if (!query.required.length) {
      // Filters alone: everything they match, newest first.
      const hits = [];
      for (let doc = m.documents - 1; doc >= 0; doc--) hits.push({ doc, score: 0 });
      return finish(m, facet, answer, hits, chosen, true);
    }
    let scored = await score(m, query);
    let matching = fullMatches(scored, query);
    if (!matching.length) {
      const suggestion = chosen.exact ? null : await suggest(m, query, text);
      if (suggestion) {
        answer.suggestion = suggestion;
        const corrected = parseQuery(suggestion);
        const rescored = await score(m, corrected);
        const found = fullMatches(rescored, corrected);
        if (found.length) {
          answer.corrected = true;
          return finish(m, facet, answer, found, chosen, false);
        }
        scored = rescored;
        Object.assign(query, corrected);
      }
      if (!query.all && query.required.length > 1) {
        const most = mostWords(scored, query);
        if (most) {
          answer.partial = { matched: most.matched, words: query.required.length };
          answer.corrected = Boolean(answer.suggestion);
          return finish(m, facet, answer, most.hits, chosen, false);
        }
      }
      return finish(m, facet, answer, [], chosen, false);
    }
    return finish(m, facet, answer, matching, chosen, false);
  }

  function finish(m, facet, answer, hits, chosen, newestOnly) {
    const { kept, counts } = facet ? tally(m, facet, hits, chosen) : { kept: [...hits], counts: null };
    if (chosen.sort === "newest" || newestOnly) kept.sort((a, b) => b.doc - a.doc);
    answer.hits = kept;
    answer.total = kept.length;
    answer.counts = counts;
    return answer;
  }

  /** The answer's counts per podcast and per topic (what choosing each would give), from
   * the facets, fetched now if the search did not need them. */
  async function counts(answer) {
    if (answer.counts) return answer.counts;
    const m = await meta();
    return tally(m, await facets(m), answer.hits, {}).counts;
  }

  /** The hits within the chosen podcast and topic, and each filter's counts. */
  function tally(m, facet, hits, chosen) {
    const podcastIndex = m.podcasts.findIndex((p) => p[0] === chosen.podcast);
    const topicIndex = m.topics.findIndex((t) => t[0] === chosen.topic);
    const has = (bits, doc) => (bits[doc >> 3] >> (doc & 7)) & 1;
    const counts = { podcast: {}, topic: {} };
    const kept = [];
    for (const hit of hits) {
      const podcast = facet.podcastOf[hit.doc];
      const inPodcast = !chosen.podcast || podcast === podcastIndex;
      const inTopic = !chosen.topic || (topicIndex >= 0 && has(facet.topics[topicIndex], hit.doc));
      // Each filter's counts hold the other filter: they say what choosing a value gives.
      if (inTopic && m.podcasts[podcast]) {
        const slug = m.podcasts[podcast][0];
        counts.podcast[slug] = (counts.podcast[slug] || 0) + 1;
      }
      if (inPodcast) {
        m.topics.forEach((topic, t) => {
          if (has(facet.topics[t], hit.doc)) counts.topic[topic[0]] = (counts.topic[topic[0]] || 0) + 1;
        });
      }
      if (inPodcast && inTopic) kept.push(hit);
    }
    return { kept, counts };
  }

  /** The documents' records ([path, title, podcast, date, duration, summary, topics, image,
   * audio?]). */
  async function documents(hits) {
    const m = await meta();
    const chunks = await Promise.all(
      [...new Set(hits.map((hit) => Math.floor(hit.doc / m.chunk)))].map((n) =>
        file("d/" + n + ".json", "json").then((records) => [n, records])
      )
    );
    const byChunk = new Map(chunks);
    return hits.map((hit) => {
      const record = byChunk.get(Math.floor(hit.doc / m.chunk))[hit.doc % m.chunk];
      return {
        doc: hit.doc,
        path: record[0],
        title: record[1],
        podcast: m.podcasts[record[2]] ? m.podcasts[record[2]][1] : "",
        date: record[3],
        duration: record[4],
        summary: record[5],
        topics: record[6].map((t) => (m.topics[t] ? m.topics[t][1] : "")).filter(Boolean),
        image: record[7] || "",
        audio: typeof record[8] === "string" ? record[8] : "",
      };
    });
  }

  // --- scoring ------------------------------------------------------------------------------

  /** Per clause (required, then excluded): doc -> score of its matching alternatives. */
  async function score(m, query) {
    const postings = await postingsFor(m, query);
    const clauses = [...query.required, ...query.excluded];
    return clauses.map((clause) => {
      const scores = new Map();
      for (const unit of clause) {
        for (const [doc, value] of unitScores(m, postings, unit)) {
          scores.set(doc, (scores.get(doc) || 0) + value);
        }
      }
      return scores;
    });
  }

  function fieldTerms(m, word) {
    return m.fields.map((field) => termIn(m, field, word));
  }

  function unitScores(m, postings, unit) {
    const total = new Map();
    m.fields.forEach((field, number) => {
      if (unit.fields && !unit.fields.includes(field.name)) return;
      // A field named in the query loses its weight, as whoosh's parser drops it.
      const boost = unit.fields ? 1 : field.boost;
      const terms = unit.words.map((word) => termIn(m, field, word)).filter(Boolean);
      if (!terms.length) return;
      const perTerm = terms.map((term) => {
        const entry = (postings.get(term) || []).find((p) => p.field === number);
        return entry ? bm25(m, field, entry) : null;
      });
      if (perTerm.some((s) => s === null)) return;
      // All the unit's words in this field: the documents in every term's list.
      let docs = perTerm[0];
      for (const other of perTerm.slice(1)) {
        const next = new Map();
        for (const [doc, value] of docs) if (other.has(doc)) next.set(doc, value + other.get(doc));
        docs = next;
      }
      for (const [doc, value] of docs) total.set(doc, (total.get(doc) || 0) + boost * value);
    });
    return total;
  }

  function termIn(m, field, word) {
    const lowered = word.toLowerCase();
    if (field.stopped && (lowered.length < 2 || stopWords(m).has(lowered))) return null;
    return field.stemmed ? stem(lowered) : lowered;
  }

  let stopSet = null;
  function stopWords(m) {
    stopSet = stopSet || new Set(m.stop);
    return stopSet;
  }

  function bm25(m, field, entry) {
    const idf = Math.log(m.documents / (entry.docs.length + 1)) + 1;
    const average = field.average || 1;
    const k1 = m.k1;
    const b = m.b;
    const scores = new Map();
    for (let i = 0; i < entry.docs.length; i++) {
      const tf = entry.counts[i];
      const length = m.lengths[entry.lengths[i]];
      scores.set(entry.docs[i], (idf * (tf * (k1 + 1))) / (tf + k1 * (1 - b + (b * length) / average)));
    }
    return scores;
  }

  function fullMatches(scored, query) {
    const required = scored.slice(0, query.required.length);
    const excluded = scored.slice(query.required.length);
    const [first, ...rest] = required;
    const hits = [];
    for (const [doc, value] of first) {
      let total = value;
      let ok = true;
      for (const clause of rest) {
        const other = clause.get(doc);
        if (other === undefined) {
          ok = false;
          break;
        }
        total += other;
      }
      if (ok && !excluded.some((clause) => clause.has(doc))) hits.push({ doc, score: total });
    }
    return ranked(hits);
  }

  /** The documents with the most of the required clauses, when none has them all. */
  function mostWords(scored, query) {
    const required = scored.slice(0, query.required.length);
    const excluded = scored.slice(query.required.length);
    const found = new Map();
    for (const clause of required) {
      for (const [doc, value] of clause) {
        const seen = found.get(doc) || { doc, score: 0, matched: 0 };
        seen.score += value;
        seen.matched += 1;
        found.set(doc, seen);
      }
    }
    let best = 0;
    for (const hit of found.values()) {
      if (!excluded.some((clause) => clause.has(hit.doc))) best = Math.max(best, hit.matched);
    }
    if (!best) return null;
    const hits = [...found.values()].filter(
      (hit) => hit.matched === best && !excluded.some((clause) => clause.has(hit.doc))
    );
    return { matched: best, hits: ranked(hits) };
  }

  // --- spelling -----------------------------------------------------------------------------

  /** The query with each word the index does not know replaced by its closest known word. */
  async function suggest(m, query, text) {
    const postings = await postingsFor(m, query);
    const words = queryWords(query);
    const replacements = new Map();
    for (const word of words) {
      const stemmed = stem(word);
      if (stemmed.length < 3 || OPERATORS.has(word.toUpperCase())) continue;
      if (known(m, postings, stemmed)) continue;
      const better = await closest(m, word, stemmed);
      if (better) replacements.set(word, better[2] || better[0]);
    }
    if (!replacements.size) return null;
    return String(text).replace(TOKEN, (word) => replacements.get(word.toLowerCase()) || word);
  }

  function known(m, postings, term) {
    const entries = postings.get(term) || [];
    const wanted = ["title", "notes"].map((name) => m.fields.findIndex((f) => f.name === name));
    return entries.some((entry) => wanted.includes(entry.field));
  }

  async function closest(m, word, stemmed) {
    const key = m.vocabulary[word[0]];
    if (key === undefined) return null;
    const entries = await file("v/" + key + ".json", "json");
    const limits = word.length <= 4 ? [1] : [1, 2];
    for (const limit of limits) {
      let best = null;
      for (const probe of new Set([word, stemmed])) {
        for (const entry of entries) {
          const [term, frequency] = entry;
          if (Math.abs(term.length - probe.length) > limit) continue;
          if (editDistance(probe, term, limit) > limit) continue;
          if (!best || frequency > best[1] || (frequency === best[1] && term < best[0])) {
            best = entry;
          }
        }
        if (best) return best;
      }
    }
    return null;
  }

  return { meta, search, documents, counts };
}

/** Levenshtein distance, or more than `limit` as soon as it must be. */
export function editDistance(a, b, limit) {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let smallest = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      smallest = Math.min(smallest, current[j]);
    }
    if (smallest > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length];
}

/** Best first; equal scores (to four places, as the terminal rounds) newest first. */
function ranked(hits) {
  return hits.sort((a, b) => {
    const difference = Math.round(b.score * 1e4) - Math.round(a.score * 1e4);
    return difference || b.doc - a.doc;
  });
}

// --- shows, people and topics ---------------------------------------------------------------

const KIND_ORDER = { show: 0, topic: 1, person: 2 };
const MAX_ENTITIES = 6;

function fold(text) {
  return String(text)
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase();
}

/** Shows, people and topics whose name holds every word of the query (as a word's start). */
export function matchEntities(entities, text) {
  const words = tokenize(fold(text)).filter((w) => !OPERATORS.has(w.toUpperCase()));
  if (!words.length || !words.some((w) => w.length >= 3)) return [];
  const found = [];
  for (const [kind, name, path, count] of entities) {
    const nameWords = tokenize(fold(name));
    if (!words.every((w) => nameWords.some((n) => n.startsWith(w)))) continue;
    const exact = nameWords.join(" ") === words.join(" ");
    found.push({ kind, name, path, count, exact });
  }
  found.sort(
    (a, b) =>
      Number(b.exact) - Number(a.exact) ||
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      b.count - a.count ||
      a.name.localeCompare(b.name)
  );
  return found.slice(0, MAX_ENTITIES);
}
