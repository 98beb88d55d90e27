"""In-process benchmark of the registry's searched pages, on a database an earlier run of
bench/registry.py kept (`--keep`): the CPU time of rendering a page's body (`_index_body`: the
queries and the rendering, no HTTP), per page, for the bench's distinct searches and for pages deep
in the index, printed with the load average.

    .venv/bin/python bench/registry_search.py sqlite:////tmp/bench-registry-…/registry.sqlite3 \
        [--searches 300] [--rounds 3] [--views OTHER_registry_views.py] [--language ja]

`--views FILE` times a second version of endorsement/registry_views.py beside this one, round by
round in turn on the same database (for instance the version before a change:
`git show main:endorsement/registry_views.py > /tmp/before.py`); it must work with the installed
models. Rounds alternate between the two, so the machine's load falls on both alike.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("data", "cloud", "security", "design", "health", "welding", "finance", "teaching", "robotics", "nursing",
         "logistics", "marketing", "statistics", "ethics", "tourism", "energy")
LEVELS = ("Level 3", "Level 4", "Level 5", "Level 6", "Level 7")


def _criteria(count: int) -> list[tuple[dict[str, str], dict[str, str]]]:
    """The distinct searches of bench/registry.py (criteria, query), then two words and Japanese."""
    searches = [({"q": word, "level": level, "standing": standing, "sort": sort}, {"page": str(page)})
                for page in (1, 2) for sort in ("newest", "name", "hours", "valid_until")
                for standing in ("active", "suspended", "revoked", "expired") for level in LEVELS for word in WORDS]
    return searches[:count]


# Japanese words (the bench's Japanese text: 「{topic}実践プログラム{n}」, 「…のプログラム。読み、分析し、
# 発表する。」, in every entry: a common word, filtered), word prefixes and two words of two scripts.
OTHER_WORDS = ("分析", "発表", "実践プログラム", "プログラム", "secur", "clou", "data 分析", "health 発表",
               "design cloud", "robot")


def _other_criteria(count: int) -> list[tuple[dict[str, str], dict[str, str]]]:
    """Japanese, prefix and two-word searches with the same filters, in both page languages' sorts."""
    searches = [({"q": word, "level": level, "standing": standing, "sort": sort}, {"page": "1"})
                for sort in ("newest", "name", "hours") for standing in ("active", "expired")
                for level in LEVELS for word in OTHER_WORDS]
    return searches[:count]


def _load_views(path: str):
    spec = importlib.util.spec_from_file_location("registry_views_other", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # a dataclass in the module looks its module up there
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database_url")
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--views", help="a second registry_views.py to time beside this one")
    parser.add_argument("--language", choices=["en", "ja"], default="en", help="the pages' language")
    args = parser.parse_args()
    os.environ.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", "DATABASE_URL": args.database_url,
                       "SECRET_KEY": "bench-registry-secret-key-not-for-production-0123456789",
                       "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING", "CELERY_BROKER_URL": ""})
    import django

    django.setup()
    from django.utils import translation

    from endorsement import registry_views
    from endorsement.registry import registry_current

    versions = [("this", registry_views)] + ([("other", _load_views(args.views))] if args.views else [])
    registry = registry_current()
    pages = -(-registry.count // registry_views.PAGE_SIZE)
    deep = [({}, {"page": str(n)}) for n in range(max(1, pages - 40), pages + 1)]
    scenarios = [(f"{args.searches} distinct searches", _criteria(args.searches)),
                 (f"{min(args.searches, 300)} distinct Japanese, prefix and two-word searches",
                  _other_criteria(args.searches)),
                 (f"the last 40 of {pages} index pages (?page=N)", deep)]
    if "_page_of" in dir(registry_views):  # the keyset links of the same pages, as the pages make them
        from endorsement.models import RegistryEntry

        keys = RegistryEntry.objects.order_by(*registry_views.NEWEST).values_list("valid_from", "programme_id")
        places = list(keys[max(0, (pages - 41)) * registry_views.PAGE_SIZE - 1::registry_views.PAGE_SIZE])
        scenarios.append(("the same pages by their Next links (after=)",
                          [({}, {"after": registry_views._cursor(2, key)}) for key in places[:40] if key]))
    print(f"{registry.count} entries; load average {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    translation.activate(args.language)
    for label, queries in scenarios:
        totals = {name: [] for name, _module in versions}
        for _round in range(args.rounds):
            for name, module in versions:
                if label.startswith("the same pages") and "_page_of" not in dir(module):
                    continue
                registry.memo.clear()  # no kept page bodies or filter choices: each page made afresh
                started = time.process_time()
                for criteria, query in queries:
                    if "_page_of" in dir(module):
                        module._index_body(registry, criteria, [], query)
                    else:
                        module._index_body(registry, criteria, [], query.get("page"))
                totals[name].append((time.process_time() - started) * 1000 / len(queries))
        figures = "; ".join(f"{name}: {min(t):.1f} ms CPU/page (median {sorted(t)[len(t) // 2]:.1f})"
                            for name, t in totals.items() if t)
        print(f"  {label}: {figures}; load average {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
