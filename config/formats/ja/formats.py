"""Dates and times as Japanese readers write them (FORMAT_MODULE_PATH = ["config.formats"]).

Django's own Japanese formats run the date into the time (2026年12月1日5:52); a space between them
is how Japanese documents and official forms print a timestamp: 2026年12月1日 5:52. The hour has no
leading zero (G), the minutes have one. Numeric short forms use slashes (2026/12/01), the usual
Japanese order year/month/day. Anything not set here comes from Django's Japanese formats.
"""

DATE_FORMAT = "Y年n月j日"
TIME_FORMAT = "G:i"
DATETIME_FORMAT = "Y年n月j日 G:i"
YEAR_MONTH_FORMAT = "Y年n月"
MONTH_DAY_FORMAT = "n月j日"
SHORT_DATE_FORMAT = "Y/m/d"
SHORT_DATETIME_FORMAT = "Y/m/d G:i"
FIRST_DAY_OF_WEEK = 0  # Sunday, as Japanese calendars print the week

# What forms accept, ISO first (the date inputs of the pages send it).
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d",
    "%Y/%m/%d",
]
