"""Settings of the gunicorn server bench/verify.py --http loads: production's, with the anonymous
throttle of POST /api/v1/verify (120/min per client address) lifted, since every request of the
bench comes from one address that stands for many clients."""

from config.settings.production import *  # noqa: F403

REST_FRAMEWORK = {**REST_FRAMEWORK,  # noqa: F405
                  "DEFAULT_THROTTLE_RATES": {**REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],  # noqa: F405
                                             "anon": "1000000/min"}}
