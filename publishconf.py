"""Settings for the public build (`make publish`, `newsroom build --publish`): pelicanconf.py plus the public address."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pelicanconf import *  # noqa: E402,F401,F403

SITEURL = os.environ.get("NEWSROOM_SITEURL", "https://newsroom.kaislaranta.example")
DELETE_OUTPUT_DIRECTORY = True
# The subscription service's public address: every sign-up form posts to it and emails link to it. Set it beside
# NEWSROOM_SITEURL; a public build refuses a loopback or relative address, and plain HTTP on an HTTPS site.
NEWSROOM_SUBSCRIBE_URL = os.environ.get("NEWSROOM_SUBSCRIBE_URL", f"{SITEURL}/subscriptions")
