/*
 * What the in-browser search costs a visitor: for each query, a fresh engine (a visitor's
 * first search) runs static/search-engine.js over a built search index, and this counts the
 * files and bytes it fetches to show the first results, and times it.
 *
 *   node benchmarks/browser_queries.mjs SITE_DIR ENGINE_JS QUERIES_JSON [RESULTS]
 *
 * SITE_DIR holds search-index/; ENGINE_JS is the search-engine.js to run; QUERIES_JSON is a
 * file of {"mix name": ["query", ...]}. Prints {"mix name": [{query, hits, files, ms}]} as
 * JSON, where files is [[path, bytes], ...] in the order asked. Every file is read into
 * memory before timing, so the times are the engine's own work (parsing and ranking), not
 * the disk's or the network's.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";

const FIRST_RESULTS = 10;
const WARM_UP_QUERIES = 20; // untimed, so the first timed queries do not pay for compiling

/** The site's search-index/ files, by their path on the site ("/search-index/meta.json"). */
function readIndex(site) {
  const files = new Map();
  const walk = (folder) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set("/" + relative(site, path).split("\\").join("/"), readFileSync(path));
    }
  };
  walk(join(site, "search-index"));
  return files;
}

/** A fetch over the files in memory that notes every file asked for, once per URL. */
function countingFetcher(files, fetched) {
  return async (url) => {
    const path = url.split("?")[0];
    const data = files.get(path);
    fetched.push([path, data ? data.length : 0]);
    return data ? new Response(data) : new Response("", { status: 404 });
  };
}

async function firstResults(createEngine, files, query) {
  const fetched = [];
  const engine = createEngine("/", countingFetcher(files, fetched));
  const started = performance.now();
  const answer = await engine.search(query, {});
  await engine.documents(answer.hits.slice(0, FIRST_RESULTS));
  const ms = performance.now() - started;
  return { query, hits: answer.total, files: fetched, ms };
}

async function main() {
  const [siteDir, engineJs, queriesJson] = process.argv.slice(2);
  const { createEngine } = await import(pathToFileURL(engineJs).href);
  const files = readIndex(siteDir);
  const mixes = JSON.parse(readFileSync(queriesJson, "utf-8"));
  const everyQuery = Object.values(mixes).flat();
  for (const query of everyQuery.slice(0, WARM_UP_QUERIES)) {
    await firstResults(createEngine, files, query);
  }
  const results = {};
  for (const [mix, queries] of Object.entries(mixes)) {
    results[mix] = [];
    for (const query of queries) results[mix].push(await firstResults(createEngine, files, query));
  }
  process.stdout.write(JSON.stringify(results) + "\n");
}

await main();
