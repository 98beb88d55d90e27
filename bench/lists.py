"""Benchmark: the peak memory (RSS) of listing 10,000 awards through the API.

The bench makes its own SQLite database, walks a programme to a published, signed endorsement,
issues one real badge through the award service and copies it (ORM bulk insert, not timed) to N
awards of one batch whose `rows` hold the N uploaded rows, as a batch upload leaves them. Each
award carries a signed credential and a hashed identity like a real one.

Each measurement runs in a fresh child process (Django started, nothing else loaded), which prints
its own peak RSS (`ru_maxrss`) and its time:

* the API, page by page: GET /api/v1/programmes/{id}/awards?limit=1000 until `next` is null;
* the API asked for everything at once: ?limit=N (clamped to 1,000 rows a page);
* for comparison, 20 awards serialised from the queryset the list used before
  (`select_related("batch")`, every column of both tables: each award loads its batch's `rows`).
  Only 20: a page of 1,000 that way needs gigabytes (issue 8 measured 14.8 GB for limit=5000), more
  than a shared machine should be asked for.

    .venv/bin/python bench/lists.py              # N=10000
    .venv/bin/python bench/lists.py --n 50       # smoke
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _setup as setup

REPO = Path(__file__).resolve().parent.parent


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def build(n: int) -> str:
    """Fill the database: N awards of one batch, each a copy of one real signed badge."""
    from django.utils import timezone

    from badges.awards import award_issue
    from badges.models import Award, AwardBatch, AwardBatchRow

    programme, issuer = setup.endorsed_programme()
    real = award_issue(actor=issuer, programme=programme, recipient_email="first@example.org",
                       recipient_name="First Learner")
    rows = [row.__dict__ if hasattr(row, "__dict__") else row
            for row in setup.batch_rows(n, "https://evidence.example.org", tag="l")]
    batch = AwardBatch.objects.create(programme=programme, created_by=issuer, total=n, issued=n,
                                      state=AwardBatch.State.DONE)
    AwardBatchRow.objects.bulk_create(AwardBatchRow(batch=batch, index=i, data=row)
                                      for i, row in enumerate(json.loads(json.dumps(rows, default=str))))
    now = timezone.now()
    Award.objects.bulk_create((
        Award(programme=programme, organisation=real.organisation, endorsement=real.endorsement, batch=batch,
              batch_row=i, recipient_email=f"learner{i}@example.org", recipient_name=f"Learner {i}",
              evidence_url=f"https://evidence.example.org/work/{i}", evidence_narrative="Passed three assignments.",
              identity=real.identity, issued_by=issuer, valid_from=now, credential=real.credential)
        for i in range(n)), batch_size=500)
    return str(programme.public_id)


def child(mode: str, programme_id: str, n: int) -> None:
    """One measurement, in this fresh process; prints a JSON line."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from badges.models import Programme
    from institutions.models import Role, StaffMember

    programme = Programme.objects.get(public_id=programme_id)
    user = StaffMember.objects.filter(organisation=programme.organisation, role=Role.ISSUER).first().user
    client = APIClient(HTTP_HOST="127.0.0.1")  # an allowed host (no test runner adds "testserver")
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    baseline = _peak_mb()
    started = time.perf_counter()
    listed = pages = 0
    if mode == "before":
        from badges.api.awards import AwardOutput
        from badges.models import Award

        # The 20 newest chosen first: sorting 10,000 joined rows that each carry the batch's rows
        # would itself take the database minutes.
        newest = list(Award.objects.filter(programme=programme).order_by("-issued_at", "-id")
                      .values_list("id", flat=True)[:20])
        old = Award.objects.filter(id__in=newest).select_related("batch").order_by("-issued_at", "-id")
        listed, pages = len(json.dumps(AwardOutput(old, many=True).data, default=str)) and len(old), 1
    else:
        url = f"/api/v1/programmes/{programme_id}/awards?limit={1000 if mode == 'pages' else n}"
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]
            body = response.json()
            listed += len(body["results"])
            pages += 1
            url = body["next"] if mode == "pages" else None
    print(json.dumps({"mode": mode, "listed": listed, "pages": pages, "seconds": time.perf_counter() - started,
                      "baseline_mb": baseline, "peak_mb": _peak_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="awards to list (default 10000)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--programme", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--database-url", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        setup.django_start(args.database_url)
        child(args.child, args.programme, args.n)
        return
    setup.exit_cleanly_on_sigterm()
    database = setup.bench_database(None, postgres=False)
    try:
        setup.django_start(database.url)
        print(f"list memory bench: {setup.machine()}")
        started = time.perf_counter()
        setup.migrate()
        programme_id = build(args.n)
        size = Path(database.url.removeprefix("sqlite:///")).stat().st_size / 2**20
        print(f"set-up: {args.n:,} awards of one batch (its rows kept), each with a signed credential; "
              f"database {size:.0f} MB; {time.perf_counter() - started:.1f} s")
        labels = {
            "pages": f"API, {args.n:,} awards in pages of 1,000 (limit=1000, following next)",
            "clamped": f"API, limit={args.n} asked (clamped to 1,000 rows)",
            "before": "before: 20 awards with the old queryset (select_related batch, all columns)",
        }
        for mode, label in labels.items():
            out = subprocess.run([sys.executable, __file__, "--child", mode, "--programme", programme_id,
                                  "--database-url", database.url, "--n", str(args.n)],
                                 cwd=REPO, capture_output=True, text=True, check=False, timeout=3600)
            if out.returncode != 0:
                raise RuntimeError(f"{mode}: exit {out.returncode}\n{out.stderr[-2000:]}")
            result = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{label:<82} peak RSS {result['peak_mb']:7.1f} MB (before listing: {result['baseline_mb']:.1f} MB)"
                  f"  {result['listed']:,} rows in {result['pages']} page(s), {result['seconds']:.1f} s")
    finally:
        database.cleanup()


if __name__ == "__main__":
    main()
