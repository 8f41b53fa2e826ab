// Mounts Pagefind's search interface on the search page; /fi/search/?q=word starts a search for "word".
(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box) return;
  if (typeof PagefindUI === "undefined") {
    // No index was built (nothing public yet): say so instead of an empty box.
    box.querySelector(".search__unavailable").hidden = false;
    return;
  }
  box.textContent = "";
  var ui = new PagefindUI({
    element: "#search",
    bundlePath: box.getAttribute("data-bundle"),
    showSubResults: true,
    showImages: false,
    resetStyles: false
  });
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) ui.triggerSearch(query);
})();
