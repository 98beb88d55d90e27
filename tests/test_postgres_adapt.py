"""config.postgres: psycopg's text dumper of lists with a faster escape gives the very same bytes,
and Django's PostgreSQL connections use it (a bulk_create's UNNEST arrays)."""

from __future__ import annotations

import json
import random

import psycopg
import pytest
from psycopg.adapt import AdaptersMap, PyFormat, Transformer
from psycopg.types.array import ListDumper

from config.postgres import TextListDumper

HOSTILE = ['', '"', '\\', '\\"', '"\\', 'a"b\\c', '{}', '{"a": "b\\"c"}', 'NULL', 'null', ' spaced ', 'a,b',
           '日本語の"引用"と\\', '\t\n\r', 'x' * 5000 + '"' * 100, '\\\\\\', '""""']


def _transformer(dumper: type) -> Transformer:
    adapters = AdaptersMap(psycopg.adapters)
    adapters.register_dumper(list, dumper)
    return Transformer(adapters)


def _dumped(dumper: type, value: list) -> bytes:
    return bytes(_transformer(dumper).get_dumper(value, PyFormat.TEXT).dump(value))


@pytest.mark.parametrize("value", [
    HOSTILE,
    [None, *HOSTILE, None],
    [HOSTILE[:3], HOSTILE[3:9], []],  # nested
    [json.dumps({"name": text, "list": [text, 1, None]}) for text in HOSTILE],
    [1, 2, 3],
    [],
])
def test_the_fast_dumper_writes_what_psycopgs_own_writes(value):
    assert _dumped(TextListDumper, value) == _dumped(ListDumper, value)


def test_the_fast_dumper_agrees_on_random_text():
    alphabet = ['"', '\\', '{', '}', ',', ' ', 'a', 'é', '語', '\n']
    chance = random.Random(14)
    for _ in range(300):
        value = ["".join(chance.choice(alphabet) for _ in range(chance.randrange(0, 40)))
                 for _ in range(chance.randrange(1, 8))]
        assert _dumped(TextListDumper, value) == _dumped(ListDumper, value), value


def test_the_fast_dumper_is_the_one_a_list_of_text_gets():
    assert type(_transformer(TextListDumper).get_dumper(["a"], PyFormat.TEXT)) is TextListDumper


@pytest.mark.postgres
@pytest.mark.django_db
def test_django_connections_use_it_and_bulk_rows_come_back_whole(postgres):
    from django.db import connection

    from endorsement.models import Notification

    connection.ensure_connection()
    assert connection.connection.adapters.get_dumper(list, PyFormat.TEXT) is TextListDumper
    dumper = Transformer(connection.connection).get_dumper(["a"], PyFormat.TEXT)
    assert isinstance(dumper, TextListDumper)
    Notification.objects.bulk_create([
        Notification(key=f"adapt-{n}", recipients=[text, "b@example.org"], subject=text[:300], body=text)
        for n, text in enumerate(HOSTILE)])
    rows = {row.key: row for row in Notification.objects.filter(key__startswith="adapt-")}
    for n, text in enumerate(HOSTILE):
        row = rows[f"adapt-{n}"]
        assert (row.recipients, row.subject, row.body) == ([text, "b@example.org"], text[:300], text)
