"""psycopg adaptations of our own, registered on each new PostgreSQL connection Django opens.

Django 5.2 inserts a bulk_create's rows on PostgreSQL as one array per column (`UNNEST(%s::jsonb[],
…)`), and psycopg 3.3 writes a text array by escaping every element with `re.sub(rb'(["\\])',
rb"\\\1", …)`: a template expansion per quote, which on JSON columns (a credential has hundreds of
quotes) cost about 39 ms for one column of a 100-row chunk, a tenth of the chunk's CPU
(docs/performance.md, "Issue 14 against its targets"). `TextListDumper` escapes the same
two characters with `bytes.replace`, which gives the very same bytes (backslashes first, then
quotes, exactly what the expression does in one pass); tests/test_postgres_adapt.py compares the two
on hostile inputs. Nothing else of psycopg's dumper changes."""

from __future__ import annotations

from typing import Any

from psycopg.types.array import ListDumper


class _Escape:
    """What psycopg's `ListDumper._re_esc.sub(rb"\\\\\\1", item)` returns, without the expression."""

    @staticmethod
    def sub(_template: bytes, item: bytes) -> bytes:
        return bytes(item).replace(b"\\", b"\\\\").replace(b'"', b'\\"')


class TextListDumper(ListDumper):
    """psycopg's text dumper of Python lists, its element escaping done by `bytes.replace`."""

    _re_esc = _Escape()


def fast_list_dumper(sender: Any, connection: Any, **kwargs: Any) -> None:
    """`connection_created` receiver: lists on this PostgreSQL connection use `TextListDumper` (the
    binary dumper registered before it stays as psycopg registers it)."""
    if connection.vendor == "postgresql":
        connection.connection.adapters.register_dumper(list, TextListDumper)
