// daybook's static search: the built site's prebuilt index under search/, read as little
// as a query needs: the manifest, the shard of each word (in the base and in the recent part),
// the doc files of the results shown.
// The terms, the ranking and the snippets are those of daybook/search_index.py (StaticIndex,
// snippet), which daybook serve answers /search with: keep them alike.
(function () {
  "use strict";
  // Everything is found from where this script is (assets/ at the site's root), so the
  // search works wherever the site is deployed, at / or under a sub-path.
  var SCRIPT = (document.currentScript && document.currentScript.src) || window.location.href;
  var ROOT = new URL("../", SCRIPT).href;
  var BASE = ROOT + "search/";
  var LIMIT = 20;
  var PREFIX_WEIGHT = 0.7;
  var SNIPPET_WORDS = 24;
  var ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
  var files = new Map();

  function load(name) {
    if (!files.has(name)) {
      files.set(name, fetch(BASE + name).then(function (response) {
        if (!response.ok) throw new Error(BASE + name + ": HTTP " + response.status);
        return response.json();
      }));
    }
    return files.get(name);
  }

  function fold(text) {
    return text.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");
  }

  function terms(text, stopwords) {
    var folded = fold(text);
    return (folded.match(/[\p{L}\p{N}]+/gu) || []).filter(function (t) {
      return !stopwords.has(t) && (t.length > 1 || /^\p{Nd}$/u.test(t)) && t.length <= 40 &&
        !/[\uD800-\uDFFF]/.test(t);
    });
  }

  // A term's postings as [doc, strong] pairs; the first counts from doc `before`.
  function decode(postings, before) {
    var found = [];
    var doc = before, value = 0, shift = 0;
    for (var i = 0; i < postings.length; i++) {
      var digit = ALPHABET.indexOf(postings[i]);
      value |= (digit & 31) << shift;
      if (digit >= 32) { shift += 5; continue; }
      doc += (value >> 1) + 1;
      found.push([doc, (value & 1) === 1]);
      value = 0; shift = 0;
    }
    return found;
  }

  function shardOf(word, shards) {
    var lo = 0, hi = shards.length;  // the last shard whose first term is <= word
    while (lo < hi) {
      var mid = (lo + hi) >> 1;
      if (shards[mid][0] <= word) lo = mid + 1; else hi = mid;
    }
    return lo - 1;
  }

  // How a term counts for a query word: 1 the word, PREFIX_WEIGHT a longer term it begins.
  function matchesWord(term, word) {
    if (term === word) return 1;
    return word.length >= 3 && term.startsWith(word) ? PREFIX_WEIGHT : 0;
  }

  // A piece of text (no spaces) as [text, marked] parts, its matching words marked; or null.
  function markPiece(piece, words) {
    var parts = [], last = 0, found = false, match;
    var word = /[\p{L}\p{N}]+/gu;
    while ((match = word.exec(piece)) !== null) {
      var term = fold(match[0]);
      if (!words.some(function (w) { return matchesWord(term, w) > 0; })) continue;
      if (match.index > last) parts.push([piece.slice(last, match.index), false]);
      parts.push([match[0], true]);
      last = match.index + match[0].length;
      found = true;
    }
    if (last < piece.length) parts.push([piece.slice(last), false]);
    return found ? parts : null;
  }

  // The snippet: from the text, else the sources' titles and ledes, SNIPPET_WORDS pieces
  // from 4 before the first one matched: a list of [text, marked] parts.
  function snippet(text, more, words) {
    var pieces = null, first = -1;
    [text, more].some(function (field) {
      var marked = field.split(" ").filter(Boolean).map(function (piece) {
        return markPiece(piece, words) || [[piece, false]];
      });
      first = marked.findIndex(function (parts) { return parts.some(function (p) { return p[1]; }); });
      if (first >= 0) pieces = marked;
      return first >= 0;
    });
    if (first < 0) {  // matched by its names alone
      pieces = text.split(" ").filter(Boolean).map(function (piece) { return [[piece, false]]; });
      first = 0;
    }
    var begin = Math.max(0, Math.min(first - 4, pieces.length - SNIPPET_WORDS));
    var end = Math.min(pieces.length, begin + SNIPPET_WORDS);
    var out = begin ? [["\u2026 ", false]] : [];
    pieces.slice(begin, end).forEach(function (parts, at) {
      if (at) out.push([" ", false]);
      out.push.apply(out, parts);
    });
    if (end < pieces.length) out.push([" \u2026", false]);
    return out;
  }

  // The docs matching a word, from its shard in the base and in the recent part (the
  // recent part's docs come after the base's, its postings counting from the doc before).
  function matches(word, manifest) {
    var recent = manifest.recent || {from: manifest.docs, shards: []};
    var parts = [[manifest.shards, -1], [recent.shards, recent.from - 1]].filter(function (part) {
      return shardOf(word, part[0]) >= 0;
    });
    return Promise.all(parts.map(function (part) {
      return load(part[0][shardOf(word, part[0])][1]);
    })).then(function (shards) {
      var weights = new Map();
      shards.forEach(function (shard, at) {
        Object.keys(shard).forEach(function (term) {
          var factor = matchesWord(term, word);
          if (!factor) return;
          decode(shard[term], parts[at][1]).forEach(function (posting) {
            var weight = factor * (posting[1] ? 2 : 1);
            if (weight > (weights.get(posting[0]) || 0)) weights.set(posting[0], weight);
          });
        });
      });
      return weights;
    });
  }

  function search(query) {
    return load("manifest.json").then(function (manifest) {
      var words = Array.from(new Set(terms(query, new Set(manifest.stopwords))));
      if (!words.length || !manifest.docs) return [];
      return Promise.all(words.map(function (w) { return matches(w, manifest); })).then(function (found) {
        var scores = new Map(), matched = new Map();
        found.forEach(function (weights) {
          if (!weights.size) return;
          var idf = Math.log(1 + manifest.docs / weights.size);
          weights.forEach(function (weight, doc) {
            scores.set(doc, (scores.get(doc) || 0) + idf * weight);
            matched.set(doc, (matched.get(doc) || 0) + 1);
          });
        });
        var best = Array.from(scores.keys()).sort(function (a, b) {
          return (matched.get(b) - matched.get(a)) ||
            (Math.round(scores.get(b) * 1e6) - Math.round(scores.get(a) * 1e6)) || (b - a);
        }).slice(0, LIMIT);
        return Promise.all(best.map(function (doc) {
          return load("d/" + Math.floor(doc / manifest.chunk) + ".json").then(function (chunk) {
            var row = chunk[doc % manifest.chunk];  // [id, date, text, stem, more]
            return {id: row[0], date: row[1], headline: row[2], url: ROOT + row[3] + ".html",
                    snippet: snippet(row[2], row[4] || "", words)};  // row[4]: absent before version 2
          });
        }));
      });
    });
  }

  // The page's words (its edition's, from data attributes of the status line); English
  // where a page gives none.
  var WORDS = {
    searching: "Searching\u2026", failed: "The search index could not be read ({error}).",
    none: "No events found for \u201c{query}\u201d.", one: "{n} result for \u201c{query}\u201d",
    many: "{n} results for \u201c{query}\u201d", best: "{n} best results for \u201c{query}\u201d",
    date: "{day} {month} {year}",
    months: "January,February,March,April,May,June,July,August,September,October,November,December"
  };

  function words(status, key, values) {
    var text = status.dataset[key] || WORDS[key];
    return text.replace(/\{(\w+)\}/g, function (all, name) { return name in values ? values[name] : all; });
  }

  function label(iso, status) {  // 7 May 2024, as the pages write dates (2024年5月7日 in zh)
    var parts = iso.split("-");
    var months = (status.dataset.months || WORDS.months).split(",");
    return words(status, "date", {day: Number(parts[2]), month: months[Number(parts[1]) - 1],
                                  year: parts[0], m: Number(parts[1])});
  }

  function show(query, hits, status, list) {
    list.replaceChildren();
    hits.forEach(function (hit) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.className = "headline";
      link.href = hit.url;
      link.textContent = hit.headline;
      var time = document.createElement("time");
      time.dateTime = hit.date;
      time.textContent = label(hit.date, status);
      var text = document.createElement("p");
      text.className = "snippet";
      hit.snippet.forEach(function (part) {
        if (!part[1]) { text.append(part[0]); return; }
        var mark = document.createElement("mark");
        mark.textContent = part[0];
        text.append(mark);
      });
      item.append(link, " ", time, "\n", text);
      list.append(item);
    });
    var key = !hits.length ? "none" : hits.length === LIMIT ? "best" : hits.length === 1 ? "one" : "many";
    status.textContent = words(status, key, {n: hits.length, query: query});
  }

  function start() {
    var query = (new URLSearchParams(window.location.search).get("q") || "").trim();
    var input = document.getElementById("q");
    var status = document.getElementById("search-status");
    var list = document.getElementById("search-results");
    if (!input || !status || !list) return;
    input.value = query;
    if (!query) return;
    status.textContent = words(status, "searching", {});
    search(query).then(function (hits) { show(query, hits, status, list); }, function (error) {
      status.textContent = words(status, "failed", {error: error.message});
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
