"""Settings for the public build (`make publish`, `newsroom build --publish`): pelicanconf.py plus the public address."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pelicanconf import *  # noqa: E402,F401,F403

SITEURL = os.environ.get("NEWSROOM_SITEURL", "https://newsroom.kaislaranta.example")
DELETE_OUTPUT_DIRECTORY = True
