// daybook's static search: the built site's prebuilt index under search/, read as little
// as a query needs: the manifest, the shard of each word, the doc files of the results shown.
// The terms and the ranking are those of daybook/search_index.py (StaticIndex); keep them alike.
(function () {
  "use strict";
  // Everything is found from where this script is (assets/ at the site's root), so the
  // search works wherever the site is deployed, at / or under a sub-path.
  var SCRIPT = (document.currentScript && document.currentScript.src) || window.location.href;
  var ROOT = new URL("../", SCRIPT).href;
  var BASE = ROOT + "search/";
  var LIMIT = 20;
  var PREFIX_WEIGHT = 0.7;
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

  function terms(text, stopwords) {
    var folded = text.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "");
    return (folded.match(/[\p{L}\p{N}]+/gu) || []).filter(function (t) {
      return !stopwords.has(t) && (t.length > 1 || /^\p{Nd}$/u.test(t)) && t.length <= 40 &&
        !/[\uD800-\uDFFF]/.test(t);
    });
  }

  function decode(postings) {
    var found = [];
    var doc = -1, value = 0, shift = 0;
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

  function matches(word, manifest) {
    var at = shardOf(word, manifest.shards);
    if (at < 0) return Promise.resolve(new Map());
    return load(manifest.shards[at][1]).then(function (shard) {
      var weights = new Map();
      Object.keys(shard).forEach(function (term) {
        var exact = term === word;
        if (!(exact || (word.length >= 3 && term.startsWith(word)))) return;
        var factor = exact ? 1 : PREFIX_WEIGHT;
        decode(shard[term]).forEach(function (posting) {
          var weight = factor * (posting[1] ? 2 : 1);
          if (weight > (weights.get(posting[0]) || 0)) weights.set(posting[0], weight);
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
            var row = chunk[doc % manifest.chunk];
            return {id: row[0], date: row[1], headline: row[2], url: ROOT + row[3] + ".html"};
          });
        }));
      });
    });
  }

  var MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December"];

  function label(iso) {  // 7 May 2024, as the pages write dates
    var parts = iso.split("-");
    return Number(parts[2]) + " " + MONTHS[Number(parts[1]) - 1] + " " + parts[0];
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
      time.textContent = label(hit.date);
      item.append(link, " ", time);
      list.append(item);
    });
    status.textContent = hits.length
      ? hits.length + (hits.length === LIMIT ? " best" : "") + " result" + (hits.length === 1 ? "" : "s") +
        " for \u201c" + query + "\u201d"
      : "No events found for \u201c" + query + "\u201d.";
  }

  function start() {
    var query = (new URLSearchParams(window.location.search).get("q") || "").trim();
    var input = document.getElementById("q");
    var status = document.getElementById("search-status");
    var list = document.getElementById("search-results");
    if (!input || !status || !list) return;
    input.value = query;
    if (!query) return;
    status.textContent = "Searching\u2026";
    search(query).then(function (hits) { show(query, hits, status, list); }, function (error) {
      status.textContent = "The search index could not be read (" + error.message + ").";
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
