// Mounts Pagefind's search interface on the search page; /fi/search/?q=word starts a search for "word".
// A large newsroom's index comes in several bundles (data-merge): Pagefind searches them as one.
(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box) return;
  if (typeof PagefindUI === "undefined") {
    // No index was built (nothing public yet): say so instead of an empty box.
    box.querySelector(".search__unavailable").hidden = false;
    return;
  }
  var merge = (box.getAttribute("data-merge") || "").split(" ").filter(Boolean);
  box.textContent = "";
  var ui = new PagefindUI({
    element: "#search",
    bundlePath: box.getAttribute("data-bundle"),
    mergeIndex: merge.map(function (bundlePath) { return { bundlePath: bundlePath }; }),
    showSubResults: true,
    showImages: false,
    resetStyles: false
  });
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) ui.triggerSearch(query);
})();
