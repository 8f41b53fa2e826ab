"""Running a build: reading, rendering on every core, the page cache, the search index, the audit, the manifest."""
