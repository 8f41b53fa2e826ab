// The media bank's filter: by kind, release and keyword. Without JavaScript the page shows everything, grouped by
// kind with links to each group; with it, the form appears and hides what does not match, saying how many remain.
(function () {
  "use strict";
  var form = document.getElementById("media-filter");
  if (!form) return;
  var items = Array.prototype.slice.call(document.querySelectorAll(".media-bank__item"));
  var sections = Array.prototype.slice.call(document.querySelectorAll(".media-bank__section"));
  var count = form.querySelector(".media-filter__count");
  var has = function (item, name, value) {
    return !value || (item.getAttribute("data-" + name) || "").split(" ").indexOf(value) !== -1;
  };
  var apply = function () {
    var kind = form.elements.kind.value, release = form.elements.release.value, keyword = form.elements.keyword.value;
    var shown = 0;
    items.forEach(function (item) {
      var match = has(item, "kind", kind) && has(item, "releases", release) && has(item, "keywords", keyword);
      item.hidden = !match;
      if (match) shown += 1;
    });
    sections.forEach(function (section) {
      section.hidden = !section.querySelector(".media-bank__item:not([hidden])");
    });
    count.textContent = count.getAttribute("data-template")
      .replace("{count}", String(shown)).replace("{total}", String(items.length));
  };
  form.hidden = false;
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  var params = new URLSearchParams(window.location.search);
  ["kind", "release", "keyword"].forEach(function (name) {
    if (params.get(name)) form.elements[name].value = params.get(name);
  });
  apply();
})();
