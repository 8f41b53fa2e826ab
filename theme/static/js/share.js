// "Copy link" on a release: the link to the release's own address becomes a button that copies the address and says
// so in a live region. Without JavaScript, or where the browser does not allow copying, the link stays a link.
(function () {
  "use strict";
  var link = document.querySelector(".share-links [data-copy]");
  if (!link || !navigator.clipboard) return;
  var status = link.parentNode.querySelector(".share-links__copied");
  var button = document.createElement("button");
  button.type = "button";
  button.className = "share-links__button";
  button.textContent = link.parentNode.parentNode.dataset.copyLabel;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(link.href).then(function () { // the address in full, also where SITEURL is empty
      status.textContent = link.dataset.copied;
    }, function () {
      status.textContent = "";
    });
  });
  link.replaceWith(button);
})();
