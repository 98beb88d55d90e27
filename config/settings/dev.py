"""Development: the zero-setup default of `make run` (SQLite, eager tasks, console e-mail)."""

from config.env import env_bool

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
# The demo serves its own webhook receiver on this machine (seed_demo registers it): loopback allowed.
WEBHOOK_ALLOW_LOOPBACK = DEBUG
WEBHOOK_DEMO_RECEIVER = DEBUG
