"""Rate counters commit without waiting for the disk, and leave every other write durable."""

import pytest
from django.db import connection

from openmnr.accounts import ratelimit

# Outside a test transaction, as in a request: only then is the counter's own commit relaxed.
pytestmark = pytest.mark.django_db(transaction=True)


def durability() -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA synchronous")
            return {2: "full"}.get(cursor.fetchone()[0], "relaxed")
        cursor.execute("SHOW synchronous_commit")
        return {"on": "full"}.get(cursor.fetchone()[0], "relaxed")


def test_counts_are_exact_and_later_writes_wait_for_the_disk_again():
    assert durability() == "full"
    assert [ratelimit.hit("api-key:1", 3, 60) for _ in range(4)] == [True, True, True, False]
    assert durability() == "full"
    assert ratelimit.exceeded("api-key:1", 3) > 0
