"""Reading and checking the content folder into the model; no Pelican, Jinja or SQLite here."""
