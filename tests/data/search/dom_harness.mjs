// Runs templates/static/search.js under Node against a served site, with a small stand-in
// for the browser DOM, and prints what the script rendered as JSON.
// Usage: node --experimental-network-imports dom_harness.mjs ORIGIN BASE SEARCH [missing]
const [origin, base, search, mode] = process.argv.slice(2);
const problems = [];
console.error = (...args) => problems.push(args.join(" "));
console.warn = (...args) => problems.push(args.join(" "));
process.on("unhandledRejection", (error) => problems.push("unhandled: " + error));

class Node {
  constructor(tag) {
    this.nodeName = tag.toUpperCase();
    this.childNodes = [];
    this.attributes = {};
    this.listeners = {};
    this.className = "";
    this.parentNode = null;
    this._text = "";
  }
  get textContent() {
    return this.nodeName === "#TEXT" ? this._text : this.childNodes.map((c) => c.textContent).join("");
  }
  set textContent(value) {
    this.childNodes = [];
    if (this.nodeName === "#TEXT") this._text = value;
    else this.appendChild(text(value));
  }
  appendChild(child) {
    child.parentNode = this;
    this.childNodes.push(child);
    return child;
  }
  insertBefore(child, before) {
    child.parentNode = this;
    this.childNodes.splice(Math.max(0, this.childNodes.indexOf(before)), 0, child);
    return child;
  }
  replaceChildren(...children) {
    this.childNodes = [];
    children.forEach((c) => this.appendChild(c));
  }
  remove() {
    if (this.parentNode) this.parentNode.childNodes = this.parentNode.childNodes.filter((c) => c !== this);
  }
  setAttribute(name, value) {
    this.attributes[name] = String(value);
  }
  getAttribute(name) {
    return name in this.attributes ? this.attributes[name] : null;
  }
  addEventListener(type, listener) {
    (this.listeners[type] = this.listeners[type] || []).push(listener);
  }
  all() {
    return [this, ...this.childNodes.flatMap((c) => c.all())];
  }
  querySelector(selector) {
    const [tag, cls] = selector.split(".");
    return this.all().find((n) => n.nodeName === tag.toUpperCase() && n.className.split(" ").includes(cls)) || null;
  }
  get options() {
    return this.childNodes;
  }
  toJSON() {
    if (this.nodeName === "#TEXT") return this._text;
    const out = { tag: this.nodeName.toLowerCase() };
    if (this.className) out.class = this.className;
    if (this.href) out.href = this.href;
    if (this.value !== undefined && this.nodeName !== "INPUT") out.value = this.value;
    if (this.childNodes.length) out.children = this.childNodes;
    return out;
  }
}
const text = (value) => {
  const node = new Node("#text");
  node._text = String(value);
  return node;
};

const html = new Node("html");
html.setAttribute("data-base", base);
const main = html.appendChild(new Node("main"));
const form = main.appendChild(new Node("form"));
const input = form.appendChild(new Node("input"));
input.form = form;
input.value = "";
const results = main.appendChild(new Node("div"));

globalThis.document = {
  documentElement: html,
  currentScript: null,
  getElementById: (id) => ({ "search-input": input, "search-results": results })[id] || null,
  createElement: (tag) => new Node(tag),
  createTextNode: (value) => text(value),
};
globalThis.Option = function (label, value) {
  const option = new Node("option");
  option.textContent = label;
  option.value = value;
  return option;
};
globalThis.DOMParser = class {
  parseFromString(markup) {
    const body = new Node("body");
    const inner = markup.replace(/^<body>|<\/body>$/g, "");
    inner.split(/(<mark>[\s\S]*?<\/mark>)/).forEach((part) => {
      const decode = (s) => s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, "&");
      if (part.startsWith("<mark>")) {
        const mark = body.appendChild(new Node("mark"));
        mark.textContent = decode(part.slice(6, -7));
      } else if (part) {
        body.appendChild(text(decode(part)));
      }
    });
    return { body };
  }
};
const realFetch = globalThis.fetch;
globalThis.fetch = (url, options) => {
  const absolute = String(url).startsWith("/") ? origin + url : String(url);
  // "missing": the site has no browser index (e.g. built with --no-browser-index).
  if (mode === "missing" && absolute.includes("/pagefind/")) {
    return Promise.resolve(new Response("not found", { status: 404 }));
  }
  return realFetch(absolute, options);
};
globalThis.window = {
  location: { search, pathname: base + "search/" },
  history: { replaceState: (_s, _t, url) => (globalThis.window.lastUrl = url) },
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
};

await import(origin + base + "static/search.js");
const deadline = Date.now() + 15000;
const done = () =>
  results.all().some((n) => n.className === "search-result") ||
  results.all().some((n) => n.className === "search-status" && /No episodes|not available|failed/.test(n.textContent));
while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
await new Promise((r) => setTimeout(r, 300));
const titles = results.all().filter((n) => n.className === "search-title").map((n) => n.textContent);
const hrefs = results.all().filter((n) => n.nodeName === "A").map((n) => n.href);
const marks = results.all().filter((n) => n.nodeName === "MARK").map((n) => n.textContent);
const filters = main.all().filter((n) => n.nodeName === "SELECT").map((n) => n.childNodes.map((o) => o.value));
const status = results.all().filter((n) => n.className === "search-status").map((n) => n.textContent);
console.log(JSON.stringify({ titles, hrefs, marks, filters, status, problems, url: window.lastUrl || null }));
