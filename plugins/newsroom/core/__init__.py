"""The model and the rules every layer shares: no Pelican, Jinja or SQLite here."""
