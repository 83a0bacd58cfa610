/*
 * The Porter stemmer exactly as whoosh.lang.porter.stem applies it, so that a query word
 * typed in the browser becomes the same term the build wrote into the index.
 *
 * whoosh departs from the published algorithm in a few places, kept here on purpose:
 *  - a "y" is a vowel only when testing whether a stem has a vowel at all; when counting
 *    the measure m it is neither vowel nor consonant, and the count stops at the first one;
 *  - the double-consonant and "at"/"bl"/"iz" rules after -ed/-ing test the whole stem,
 *    not its end, so "hopping" gives "hopp" while "ating" gives "at";
 *  - words shorter than three characters (counted as Unicode code points) are left alone.
 * Anything that is not one of "aeiouy" (accented letters, CJK, digits, ".", "_") is a
 * consonant. Input: one lower-cased word, without white space, as the index tokenizes it.
 * An ES module, hence strict mode; no dependencies.
 */

const STEP2 = {
  ational: "ate", tional: "tion", enci: "ence", anci: "ance", izer: "ize", bli: "ble",
  alli: "al", entli: "ent", eli: "e", ousli: "ous", ization: "ize", ation: "ate",
  ator: "ate", alism: "al", iveness: "ive", fulness: "ful", ousness: "ous", aliti: "al",
  iviti: "ive", biliti: "ble", logi: "log",
};
const STEP3 = {
  icate: "ic", ative: "", alize: "al", iciti: "ic", ical: "ic", ful: "", ness: "",
};
const STEP4 = [ // removed outright
  "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ou",
  "ism", "ate", "iti", "ous", "ive", "ize",
];

// Longest first: of the suffixes a word ends with, only the longest one is tried.
const longestFirst = (rules) => rules.sort((a, b) => b[0].length - a[0].length);
const STEP2_RULES = longestFirst(Object.entries(STEP2));
const STEP3_RULES = longestFirst(Object.entries(STEP3));
const STEP4_RULES = longestFirst(STEP4.map((suffix) => [suffix, ""]));

const isVowel = (ch) => ch === "a" || ch === "e" || ch === "i" || ch === "o" || ch === "u";
const hasVowelOrY = (s) => /[aeiouy]/.test(s);
// The whole stem is consonants, one vowel (or y), then a consonant other than w, x or y.
// The `u` flag makes a character outside the BMP one consonant, as in Python.
const isShortSyllable = (s) => /^[^aeiouy]+[aeiouy][^aeiouwxy]$/u.test(s);

/** whoosh's measure m: vowel-consonant pairs from the start, up to the first "y". */
function measure(s) {
  let pairs = 0;
  for (let i = 0; i < s.length && s[i] !== "y"; i += 1) {
    if (i > 0 && isVowel(s[i - 1]) && !isVowel(s[i])) pairs += 1;
  }
  return pairs;
}

/** m == 1 over the whole stem, which must then have no "y" at all. */
const measureIsOne = (s) => !s.includes("y") && measure(s) === 1;

/** [stem, replacement] for the longest suffix of `word` in `rules` that leaves a stem. */
function splitSuffix(word, rules) {
  for (const [suffix, replacement] of rules) {
    if (word.length > suffix.length && word.endsWith(suffix)) {
      return [word.slice(0, -suffix.length), replacement];
    }
  }
  return null;
}

function pluralStep(w) {
  if (w.endsWith("sses") || w.endsWith("ies")) return w.slice(0, -2);
  if (w.endsWith("s") && w[w.length - 2] !== "s") return w.slice(0, -1);
  return w;
}

function edIngStep(w) {
  if (w.endsWith("eed")) return measure(w.slice(0, -3)) > 0 ? w.slice(0, -1) : w;
  const cut = w.endsWith("ed") ? 2 : w.endsWith("ing") ? 3 : 0;
  if (cut === 0 || !hasVowelOrY(w.slice(0, -cut))) return w;
  const stem = w.slice(0, -cut);
  // whoosh matches these from the start of the stem, so only the bare stems "at" and "iz"
  // ("bl" has no vowel) get their e back. Its undoubling rule ("hopp" -> "hop") wants a
  // stem of two equal consonants, which has no vowel either, so it never applies.
  if (stem === "at" || stem === "bl" || stem === "iz" || isShortSyllable(stem)) {
    return stem + "e";
  }
  return stem;
}

function yStep(w) {
  return w.endsWith("y") && hasVowelOrY(w.slice(0, -1)) ? w.slice(0, -1) + "i" : w;
}

function replaceSuffix(w, rules) {
  const split = splitSuffix(w, rules);
  return split && measure(split[0]) > 0 ? split[0] + split[1] : w;
}

function removeSuffix(w) {
  const split = splitSuffix(w, STEP4_RULES);
  if (split) return measure(split[0]) > 1 ? split[0] : w;
  // -ion goes only after s or t, which stay.
  if (w.length > 4 && (w.endsWith("sion") || w.endsWith("tion"))) {
    const stem = w.slice(0, -3);
    return measure(stem) > 1 ? stem : w;
  }
  return w;
}

function finalEStep(w) {
  if (w.length < 2 || !w.endsWith("e")) return w;
  const stem = w.slice(0, -1);
  if (measure(stem) > 1 || (measureIsOne(stem) && !isShortSyllable(stem))) return stem;
  return w;
}

const doubleLStep = (w) => (w.endsWith("ll") && measure(w) > 1 ? w.slice(0, -1) : w);

/** The index term of a lower-cased word: whoosh.lang.porter.stem(word). */
export function stem(word) {
  if ([...word].length < 3) return word;
  // A leading y is a consonant to every rule: upper case keeps it out of "y" tests.
  const leadingY = word[0] === "y";
  let w = leadingY ? "Y" + word.slice(1) : word;
  w = pluralStep(w);
  w = edIngStep(w);
  w = yStep(w);
  w = replaceSuffix(w, STEP2_RULES);
  w = replaceSuffix(w, STEP3_RULES);
  w = removeSuffix(w);
  w = finalEStep(w);
  w = doubleLStep(w);
  return leadingY ? "y" + w.slice(1) : w;
}
