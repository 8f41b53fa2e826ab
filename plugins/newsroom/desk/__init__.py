"""The desk: a web editor for staff, over the same Markdown files in git."""
