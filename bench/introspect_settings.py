"""Settings for bench/grants_introspect.py: the platform's, plus one bare view to compare with."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.introspect_urls"
