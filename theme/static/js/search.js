// The search page: Pagefind's own search API (pagefind.js) with the theme's markup, so results look like the
// release listings (date | type | language, title, excerpt) and read as a list to a screen reader. The form works
// from the keyboard; the number of results is announced in a polite live region. /fi/search/?q=word&type=Tiedote
// starts a search, and the address follows the form so a search can be linked to. A large newsroom's index comes
// in several bundles (data-merge): Pagefind searches them as one.
(function () {
  "use strict";
  var form = document.getElementById("search");
  if (!form) return;
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var input = form.elements.q;
  var selects = [form.elements.type, form.elements.keyword];
  var text = form.dataset;
  var PAGE = 10;
  var found = [];
  var shown = 0;
  var latest = 0;
  var timer = null;

  var unavailable = function () {
    document.getElementById("search-unavailable").hidden = false;
  };

  var say = function (template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  };

  var element = function (name, className, content) {
    var node = document.createElement(name);
    if (className) node.className = className;
    if (content) node.textContent = content;
    return node;
  };

  var card = function (data) {
    var item = element("li", "release-card search-result");
    var meta = element("p", "release-card__meta");
    var parts = [];
    if (data.meta.date) {
      var time = element("time", "", data.meta.date);
      if (data.meta.datetime) time.setAttribute("datetime", data.meta.datetime);
      parts.push(time);
    }
    if (data.meta.type) parts.push(element("span", "search-result__type", data.meta.type));
    if (data.meta.language) parts.push(element("span", "search-result__language", data.meta.language));
    parts.forEach(function (part, index) {
      if (index) meta.appendChild(document.createTextNode(" | "));
      meta.appendChild(part);
    });
    var title = element("h2", "release-card__title");
    var link = element("a", "", data.meta.title);
    link.href = data.url;
    title.appendChild(link);
    var excerpt = element("p", "release-card__lead search-result__excerpt");
    excerpt.innerHTML = data.excerpt; // Pagefind's excerpt: the page's own text, escaped, with <mark> around hits
    var plain = excerpt.textContent.trim();
    var content = (data.content || "").trim();
    // An excerpt from the middle of the text says so, rather than starting or ending mid-sentence unmarked.
    if (plain && content.indexOf(plain.slice(0, 40)) > 0) {
      excerpt.insertBefore(document.createTextNode("… "), excerpt.firstChild);
    }
    if (plain && content.slice(-40) !== plain.slice(-40)) excerpt.appendChild(document.createTextNode(" …"));
    item.append(meta, title, excerpt);
    return item;
  };

  var showMore = function (focusFirst) {
    var batch = found.slice(shown, shown + PAGE);
    var ticket = latest;
    return Promise.all(batch.map(function (result) { return result.data(); })).then(function (pages) {
      if (ticket !== latest) return;
      var first = null;
      pages.forEach(function (data) {
        var item = card(data);
        first = first || item;
        list.appendChild(item);
      });
      shown += batch.length;
      more.hidden = shown >= found.length;
      if (focusFirst && first) first.querySelector("a").focus();
    });
  };

  var follow = function () {
    var params = new URLSearchParams();
    if (input.value.trim()) params.set("q", input.value.trim());
    selects.forEach(function (select) { if (select.value) params.set(select.name, select.value); });
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  };

  var run = function (pagefind) {
    var words = input.value.trim();
    var filters = {};
    selects.forEach(function (select) { if (select.value) filters[select.dataset.filter] = select.value; });
    var ticket = ++latest;
    follow();
    list.textContent = "";
    found = [];
    shown = 0;
    more.hidden = true;
    if (!words && !Object.keys(filters).length) {
      status.textContent = "";
      return Promise.resolve();
    }
    form.setAttribute("aria-busy", "true");
    return pagefind.search(words || null, { filters: filters }).then(function (search) {
      if (ticket !== latest) return;
      form.removeAttribute("aria-busy");
      found = search.results;
      var count = found.length;
      var values = { count: count, query: words };
      var sentence = say(count === 0 ? text.none : count === 1 ? text.one : text.many, values);
      if (words) sentence += " " + say(text.query, values);
      status.textContent = sentence + "." + (count === 0 ? " " + text.hint : "");
      return showMore(false);
    });
  };

  var fill = function (select, values) {
    Object.keys(values).sort(function (a, b) { return a.localeCompare(b); }).forEach(function (value) {
      var option = element("option", "", value + " (" + values[value] + ")");
      option.value = value;
      select.appendChild(option);
    });
  };

  var bundle = form.dataset.bundle;
  var merge = (form.dataset.merge || "").split(" ").filter(Boolean);
  import(bundle + "pagefind.js").then(function (pagefind) {
    return pagefind.options({ bundlePath: bundle, excerptLength: 30 }).then(function () {
      return Promise.all(merge.map(function (path) { return pagefind.mergeIndex(path); }));
    }).then(function () {
      return pagefind.filters();
    }).then(function (filters) {
      selects.forEach(function (select) { fill(select, filters[select.dataset.filter] || {}); });
      var params = new URLSearchParams(window.location.search);
      input.value = params.get("q") || "";
      selects.forEach(function (select) { select.value = params.get(select.name) || ""; });
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        window.clearTimeout(timer);
        run(pagefind);
      });
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { run(pagefind); }, 300);
      });
      selects.forEach(function (select) { select.addEventListener("change", function () { run(pagefind); }); });
      more.addEventListener("click", function () { showMore(true); });
      return run(pagefind);
    });
  }).catch(unavailable); // no index was built (nothing public yet): say so instead of an empty form
})();
