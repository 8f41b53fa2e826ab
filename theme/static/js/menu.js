// The phone menu: a disclosure button (aria-expanded, aria-controls) that shows and hides the header's menu.
// Escape closes it and puts focus back on the button. Without JavaScript the button stays hidden and the menu shows.
(function () {
  "use strict";
  var button = document.querySelector(".menu-button");
  var menu = button && document.getElementById(button.getAttribute("aria-controls"));
  if (!menu) return;
  var header = button.closest(".site-header");
  header.classList.add("site-header--js");
  button.hidden = false;
  var set = function (open) {
    button.setAttribute("aria-expanded", String(open));
    header.classList.toggle("site-header--open", open);
  };
  button.addEventListener("click", function () {
    set(button.getAttribute("aria-expanded") !== "true");
  });
  header.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      set(false);
      button.focus();
    }
  });
})();
