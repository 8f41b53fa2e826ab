// The editor's small Markdown toolbar: each button wraps the selection (or the current line) and tells htmx.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-md]");
  if (!button) return;
  const area = document.getElementById(button.closest("[aria-controls]").getAttribute("aria-controls"));
  const start = area.selectionStart, end = area.selectionEnd;
  const picked = area.value.slice(start, end);
  const lineStart = area.value.lastIndexOf("\n", start - 1) + 1;
  const kind = button.dataset.md;
  let text, from = start, to = end;
  if (kind === "link") {
    text = `[${picked || "link text"}](https://)`;
  } else {
    const prefix = { heading: "## ", list: "- ", quote: "> " }[kind];
    from = lineStart;
    const lines = area.value.slice(lineStart, end || lineStart).split("\n");
    text = lines.map((line) => prefix + line).join("\n");
  }
  area.setRangeText(text, from, to, "end");
  area.focus();
  area.dispatchEvent(new Event("input", { bubbles: true }));
});
