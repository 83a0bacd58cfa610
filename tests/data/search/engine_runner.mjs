// Runs static/search-engine.js under Node over a built site folder, for the tests.
//   node engine_runner.mjs SITE_DIR ENGINE_DIR REQUESTS_JSON
// REQUESTS_JSON: [{q, podcast, topic, sort, show}] -> prints one JSON answer per request:
// {total, partial, suggestion, corrected, counts (the filters'), entities, paths (of every hit), shown
// (records of the first `show` hits), fetched (files this request fetched)}.
import { readFile } from "node:fs/promises";

const [, , siteDir, engineDir, requestsFile] = process.argv;
const { createEngine } = await import(engineDir + "/search-engine.js");
const requests = JSON.parse(await readFile(requestsFile, "utf-8"));
let fetched = [];

async function fetcher(url) {
  const path = url.replace(/\?.*$/, "");
  fetched.push(path);
  try {
    const data = await readFile(siteDir + path);
    return {
      ok: true,
      json: async () => JSON.parse(data.toString("utf-8")),
      arrayBuffer: async () => data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    };
  } catch {
    return { ok: false };
  }
}

const answers = [];
for (const request of requests) {
  const engine = createEngine("/", fetcher); // a fresh page: nothing cached
  fetched = [];
  const answer = await engine.search(request.q, request);
  const records = await engine.documents(answer.hits.slice(0, request.show || 10));
  const firstFetched = [...new Set(fetched)]; // what the first results needed
  const counts = await engine.counts(answer); // the filters' counts, as the page asks next
  const paths = (await engine.documents(answer.hits)).map((r) => r.path);
  answers.push({
    total: answer.total,
    partial: answer.partial,
    suggestion: answer.suggestion,
    corrected: answer.corrected,
    counts,
    entities: answer.entities,
    paths,
    shown: records,
    fetched: firstFetched,
  });
}
process.stdout.write(JSON.stringify(answers));
