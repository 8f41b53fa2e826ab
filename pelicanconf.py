"""Settings for building the newsroom (`make html`, `make serve`, `newsroom build`).

Pelican's own settings come first; the NEWSROOM_ settings and their defaults are listed in
plugins/newsroom/core/settings.py and in docs/operating/settings.md.
"""

SITENAME = "Kaislarannan kaupungin uutishuone"
SITEURL = ""
PATH = "content"
OUTPUT_PATH = "output"
THEME = "theme"
TIMEZONE = "Europe/Helsinki"
DEFAULT_LANG = "fi"

PLUGIN_PATHS = ["plugins"]
PLUGINS = ["newsroom"]

NEWSROOM_LANGUAGES = ("fi", "sv", "en")

# Releases are read from content/releases, pages (accessibility statement) from content/pages.
ARTICLE_PATHS = ["releases"]
PAGE_PATHS = ["pages"]
ARTICLE_TRANSLATION_ID = "release"
STATIC_PATHS = []  # images, attachments and the logo are copied by the newsroom plugin

# Every language lives under its own prefix: /fi/releases/<slug>/.
ARTICLE_URL = ARTICLE_LANG_URL = "{lang}/releases/{slug}/"
ARTICLE_SAVE_AS = ARTICLE_LANG_SAVE_AS = "{lang}/releases/{slug}/index.html"
PAGE_URL = PAGE_LANG_URL = "{lang}/{slug}/"
PAGE_SAVE_AS = PAGE_LANG_SAVE_AS = "{lang}/{slug}/index.html"
# Drafts are never written to the output.
DRAFT_URL = DRAFT_LANG_URL = DRAFT_SAVE_AS = DRAFT_LANG_SAVE_AS = ""
DRAFT_PAGE_SAVE_AS = DRAFT_PAGE_LANG_SAVE_AS = ""

# The newsroom writes its own per-language listings; Pelican's single-language ones are off.
DIRECT_TEMPLATES = []
INDEX_SAVE_AS = ""
TAG_SAVE_AS = TAGS_SAVE_AS = ""
CATEGORY_SAVE_AS = CATEGORIES_SAVE_AS = ""
AUTHOR_SAVE_AS = AUTHORS_SAVE_AS = ""
ARCHIVES_SAVE_AS = ""
DEFAULT_CATEGORY = "releases"

# Listings show ten releases a page: /fi/, /fi/page/2/, ...
DEFAULT_PAGINATION = 10
PAGINATED_TEMPLATES = {"index": None, "type": None, "keyword": None}
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
)

# Feeds are written by the newsroom plugin (feedgen), not by Pelican.
FEED_ALL_ATOM = FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = CATEGORY_FEED_RSS = None
TRANSLATION_FEED_ATOM = TRANSLATION_FEED_RSS = None
AUTHOR_FEED_ATOM = AUTHOR_FEED_RSS = None
TAG_FEED_ATOM = TAG_FEED_RSS = None

# Rebuilds reuse what Pelican read from unchanged files (its reader cache; a build into another folder with
# `newsroom build --output DIR` keeps its own cache beside that folder, in .DIR-cache).
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
CACHE_PATH = "cache/content"
GZIP_CACHE = False  # a few megabytes more on disk; compressing the cache again was a tenth of a quick publish

# Titles, leads and card texts are escaped; release bodies are HTML from Markdown and marked safe.
JINJA_ENVIRONMENT = {"trim_blocks": True, "lstrip_blocks": True, "autoescape": True, "extensions": []}

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.smarty": {"smart_quotes": False},
    },
    "output_format": "html5",
}
