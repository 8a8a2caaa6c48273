"""Which worker acts on a provisioning run: the one holding the run's claim.

A run is claimed with a PostgreSQL session-level advisory lock keyed by its id
(``pg_try_advisory_lock``), not a row lock: no transaction stays open while the claimant
applies the program (seconds to minutes), and a worker that dies loses its connection and the
claim with it, so the redelivered task claims the run at once. A worker that finds the run
claimed raises ``RunClaimed``, a transient error: its task retries later and then finds the
work done. Each claim also carries a token that the claimant writes on the run and checks when
it commits the outcome, so an outcome is committed only by the worker that still holds the run.
"""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

from provisioning.errors import RunClaimed

RUN_CLAIM_NAMESPACE = 0x50524F56
"""The first key of the advisory lock ('PROV'); the second is the run's id."""


@contextmanager
def run_claim(run_id: int) -> Iterator[str]:
    """Holds the run's claim for the block and yields its token; raises RunClaimed if another has it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [RUN_CLAIM_NAMESPACE, run_id])
        (claimed,) = cursor.fetchone()
    if not claimed:
        raise RunClaimed(f"Run {run_id} is claimed by another worker.")
    try:
        yield uuid.uuid4().hex
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [RUN_CLAIM_NAMESPACE, run_id])
        except DatabaseError:
            pass  # the connection is gone, and its session's locks with it
