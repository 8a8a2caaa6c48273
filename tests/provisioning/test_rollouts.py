"""Rollouts of a changed tenant program over the fleet, against DynamoDB Local: planned first,
canary first then waves, an error budget that halts, resume after a fix, cancel, skips."""

import threading
import time

import pytest
from django.db import connection

from provisioning.actions import do_cancel_rollout, do_resume_rollout, do_start_rollout
from provisioning.engines.local import LocalEngine
from provisioning.models import ProvisioningRun, Rollout, RolloutTenant
from provisioning.rollouts import rollout_advance, rollout_create, rollout_plan, rollout_tenant_apply
from resale.binding import TenantRef, tenant_dynamodb_client
from tenants.actions import do_create_tenant
from tenants.models import Tenant
from tests.program_changes import NEW_INDEX_SITECUSTOMIZE, NEW_STREAM_SITECUSTOMIZE

pytestmark = [pytest.mark.ddblocal, pytest.mark.django_db]


@pytest.fixture
def rollouts(celery_eager, django_capture_on_commit_callbacks):
    """Starts, resumes or cancels a rollout and runs its tasks as a worker would, inline."""

    def call(service, **kwargs) -> Rollout:
        with django_capture_on_commit_callbacks(execute=True):
            rollout = service(**kwargs)
        rollout.refresh_from_db()
        return rollout

    return call


def entries(rollout: Rollout) -> dict[str, RolloutTenant]:
    return {entry.tenant.slug: entry for entry in rollout.tenants.select_related("tenant", "run")}


def describe(slug: str, role: str) -> dict:
    return tenant_dynamodb_client(TenantRef(slug=slug)).describe_table(TableName=f"resale-{slug}-{role}")[
        "Table"
    ]


def indexes_of(slug: str, role: str) -> set[str]:
    described = describe(slug, role)
    return {index["IndexName"] for index in described.get("GlobalSecondaryIndexes", [])}


class RecordedPreviews:
    """Wraps the local engine's preview: records when each tenant's began and ended, and calls
    ``after_first`` once, when the first to end has ended (before its plan can be kept and before
    any other preview can end)."""

    def __init__(self, monkeypatch, *, after_first=None, failing: bool = False) -> None:
        self.spans: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()
        self.after_first = after_first
        real_preview = LocalEngine.preview

        def preview(engine, config):
            began = time.monotonic()
            try:
                if failing:
                    raise RuntimeError("the program does not evaluate")
                return real_preview(engine, config)
            finally:
                # ``after_first`` runs under the lock: a second preview ending meanwhile would let
                # the planner start a third before the first's action (a cancel) is committed.
                with self.lock:
                    self.spans[config.slug] = (began, time.monotonic())
                    first, self.after_first = self.after_first, None
                    if first:
                        first()

        monkeypatch.setattr(LocalEngine, "preview", preview)

    def most_at_once(self) -> int:
        edges = sorted([(b, 1) for b, _ in self.spans.values()] + [(e, -1) for _, e in self.spans.values()])
        running = most = 0
        for _, step in edges:
            running += step
            most = max(most, running)
        return most


def test_a_model_that_gains_an_index_is_planned_then_applied_to_five_tenants_canary_first(
    provisioned_tenant, program_change, rollouts
):
    tenants = [provisioned_tenant() for _ in range(5)]
    program_change(NEW_INDEX_SITECUSTOMIZE)

    rollout = rollouts(
        do_start_rollout,
        tenants=[t.slug for t in tenants],
        canary=1,
        wave_size=2,
        max_parallel=2,
        max_failures=0,
    )

    assert rollout.status == "succeeded"
    by_slug = entries(rollout)
    assert [by_slug[t.slug].wave for t in tenants] == [1, 2, 2, 3, 3]
    for tenant in tenants:
        entry = by_slug[tenant.slug]
        orders = f"resale-{tenant.slug}-orders"
        planned = {e["table"]: e for e in entry.plan if "table" in e}
        assert planned[orders]["changes"] == ["add index by_listing"]
        assert {e["action"] for name, e in planned.items() if name != orders} == {"unchanged"}
        assert entry.status == "changed" and entry.planned_changes
        assert "by_listing" in indexes_of(tenant.slug, "orders")
        assert entry.run.kind == "update" and entry.run.status == "succeeded"
    canary = by_slug[tenants[0].slug].run
    assert all(canary.finished_at <= by_slug[t.slug].run.created_at for t in tenants[1:])


def test_a_failing_tenant_halts_the_rollout_over_six_tenants_and_resume_after_the_fix_finishes(
    provisioned_tenant, program_change, rollouts, monkeypatch
):
    tenants = [provisioned_tenant() for _ in range(6)]
    program_change(NEW_STREAM_SITECUSTOMIZE)
    broken = tenants[2].slug
    real_deploy = LocalEngine.deploy

    def deploy_failing_for_one_tenant(engine, config):
        if config.slug == broken:
            raise RuntimeError("the provider rejected the change")
        return real_deploy(engine, config)

    monkeypatch.setattr(LocalEngine, "deploy", deploy_failing_for_one_tenant)
    slugs = [t.slug for t in tenants]
    rollout = rollouts(do_start_rollout, tenants=slugs, canary=1, wave_size=2, max_parallel=2, max_failures=0)

    assert rollout.status == "halted" and "1 tenants failed" in rollout.halted_reason
    by_slug = entries(rollout)
    assert [by_slug[slug].wave for slug in slugs] == [1, 2, 2, 3, 3, 4]
    assert all(by_slug[slug].plan for slug in slugs)  # every tenant planned before any apply
    assert by_slug[slugs[0]].status == "changed"
    assert by_slug[broken].status == "failed" and "the provider rejected the change" in by_slug[broken].error
    assert by_slug[slugs[1]].status == "changed"  # running beside the failure: it finished
    assert {by_slug[slug].status for slug in slugs[3:]} == {"pending"}  # later waves never started
    assert Tenant.objects.get(slug=broken).status == "active"  # a failed update keeps it serving

    monkeypatch.setattr(LocalEngine, "deploy", real_deploy)
    rollout = rollouts(do_resume_rollout, rollout=rollout)

    assert rollout.status == "succeeded"
    assert {entry.status for entry in entries(rollout).values()} == {"changed"}
    described = describe(broken, "idempotency")
    assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert "idempotency" in Tenant.objects.get(slug=broken).resources["streams"]


def test_an_unchanged_program_leaves_every_tenant_unchanged_and_a_preview_changes_nothing(
    provisioned_tenant, program_change, rollouts
):
    tenants = [provisioned_tenant() for _ in range(2)]
    rollout = rollouts(do_start_rollout, tenants="all", canary=1, wave_size=5, max_parallel=2, max_failures=0)
    assert rollout.status == "succeeded"
    mine = {slug: entry for slug, entry in entries(rollout).items() if slug in {t.slug for t in tenants}}
    assert {entry.status for entry in mine.values()} == {"unchanged"}

    program_change(NEW_STREAM_SITECUSTOMIZE)
    runs_before = ProvisioningRun.objects.count()
    preview = rollouts(
        do_start_rollout,
        tenants=[t.slug for t in tenants],
        canary=1,
        wave_size=5,
        max_parallel=2,
        max_failures=0,
        preview=True,
    )
    assert preview.status == "succeeded"
    for entry in entries(preview).values():
        assert entry.status == "pending" and entry.planned_changes
        planned = {e["table"]: e["changes"] for e in entry.plan if "table" in e}
        assert planned[f"resale-{entry.tenant.slug}-idempotency"] == ["stream None -> NEW_AND_OLD_IMAGES"]
    assert ProvisioningRun.objects.count() == runs_before
    described = describe(tenants[0].slug, "idempotency")
    assert not described.get("StreamSpecification", {}).get("StreamEnabled")


def test_offboarded_tenants_are_skipped_new_ones_left_to_onboarding_and_busy_ones_wait_for_their_run(
    provisioned_tenant, unique_slug
):
    busy, leaving, other = (provisioned_tenant() for _ in range(3))
    rollout = rollout_create(tenants="all", canary=0, wave_size=3, max_parallel=3, max_failures=0)
    Tenant.objects.filter(pk=leaving.pk).update(status=Tenant.Status.OFFBOARDED)
    later = unique_slug("later")  # onboarded after the rollout began: on the current program already
    do_create_tenant(slug=later, name="Later", tier="standard", admin_email=f"admin@{later}.example")
    tier_change = ProvisioningRun.objects.create(tenant=busy, kind="update", tier="premium")

    started = rollout_advance(rollout_id=rollout.pk)
    by_slug = entries(rollout)
    assert set(by_slug) == {busy.slug, leaving.slug, other.slug}
    assert by_slug[leaving.slug].status == "skipped" and by_slug[leaving.slug].error == "tenant is offboarded"
    assert sorted(started) == sorted([by_slug[busy.slug].pk, by_slug[other.slug].pk])

    outcome = rollout_tenant_apply(entry_id=by_slug[busy.slug].pk)
    waiting = RolloutTenant.objects.get(pk=by_slug[busy.slug].pk)
    assert outcome.waiting and waiting.status == "pending" and waiting.run is None
    assert waiting.error.startswith(f"waiting: Run {tier_change.pk} (update)")

    rollout_tenant_apply(entry_id=by_slug[other.slug].pk)
    ProvisioningRun.objects.filter(pk=tier_change.pk).update(status="succeeded")
    assert rollout_advance(rollout_id=rollout.pk) == [waiting.pk]
    rollout_tenant_apply(entry_id=waiting.pk)
    assert rollout_advance(rollout_id=rollout.pk) == []
    rollout.refresh_from_db()
    assert rollout.status == "succeeded"
    assert {e.status for e in entries(rollout).values()} == {"unchanged", "skipped"}


def test_cancel_starts_no_more_tenants_and_lets_the_running_one_finish(provisioned_tenant):
    first, second = provisioned_tenant(), provisioned_tenant()
    rollout = rollout_create(
        tenants=[first.slug, second.slug], canary=1, wave_size=1, max_parallel=1, max_failures=0
    )
    (running,) = rollout_advance(rollout_id=rollout.pk)

    cancelled = do_cancel_rollout(rollout=rollout)
    rollout_tenant_apply(entry_id=running)

    assert cancelled.status == "cancelled" and rollout_advance(rollout_id=rollout.pk) == []
    by_slug = entries(rollout)
    assert by_slug[first.slug].status == "unchanged"
    assert by_slug[second.slug].status == "skipped" and by_slug[second.slug].error == "rollout cancelled"
    with pytest.raises(Exception, match="cancelled"):
        do_cancel_rollout(rollout=rollout)


def test_a_tenant_whose_worker_died_mid_apply_is_applied_again_by_the_redelivered_task_with_one_run(
    provisioned_tenant, monkeypatch
):
    tenant = provisioned_tenant()
    rollout = rollout_create(tenants=[tenant.slug], canary=1, wave_size=1, max_parallel=1, max_failures=0)
    (entry_id,) = rollout_advance(rollout_id=rollout.pk)
    real_deploy = LocalEngine.deploy

    def worker_killed(engine, config):
        raise SystemExit("killed mid-apply")  # not an Exception: nothing records it, as with SIGKILL

    monkeypatch.setattr(LocalEngine, "deploy", worker_killed)
    with pytest.raises(SystemExit):
        rollout_tenant_apply(entry_id=entry_id)
    entry = RolloutTenant.objects.select_related("run").get(pk=entry_id)
    assert entry.status == "running" and entry.run.status == "running"

    monkeypatch.setattr(LocalEngine, "deploy", real_deploy)
    rollout_tenant_apply(entry_id=entry_id)  # the message, acked late, is delivered again
    rollout_tenant_apply(entry_id=entry_id)  # and once more: nothing happens twice
    assert rollout_advance(rollout_id=rollout.pk) == []

    entry = RolloutTenant.objects.select_related("run").get(pk=entry_id)
    assert entry.status == "unchanged" and entry.run.status == "succeeded"
    assert tenant.runs.filter(kind="update").count() == 1
    assert tenant.events.filter(action="tenant.updated").count() == 1
    rollout.refresh_from_db()
    assert rollout.status == "succeeded"


def test_four_tenants_are_planned_two_at_a_time_with_the_local_engine_and_every_plan_kept(
    provisioned_tenant, program_change, monkeypatch
):
    tenants = [provisioned_tenant() for _ in range(4)]
    program_change(NEW_INDEX_SITECUSTOMIZE)
    previews = RecordedPreviews(monkeypatch)
    rollout = rollout_create(
        tenants=[t.slug for t in tenants], canary=1, wave_size=3, max_parallel=2, max_failures=0
    )

    started = time.monotonic()
    rollout_plan(rollout_id=rollout.pk)
    took = time.monotonic() - started

    assert set(previews.spans) == {t.slug for t in tenants}
    assert previews.most_at_once() == 2  # overlapping, and never more than max_parallel
    serial = sum(end - began for began, end in previews.spans.values())
    assert took < serial, (took, serial)
    for entry in entries(rollout).values():
        planned = {e["table"]: e for e in entry.plan if "table" in e}
        assert planned[f"resale-{entry.tenant.slug}-orders"]["changes"] == ["add index by_listing"]
        assert entry.status == "pending" and entry.planned_changes


@pytest.mark.django_db(transaction=True)
def test_a_cancel_during_planning_starts_no_more_previews_and_keeps_the_plans_under_way(
    provisioned_tenant, monkeypatch
):
    tenants = [provisioned_tenant() for _ in range(5)]
    rollout = rollout_create(
        tenants=[t.slug for t in tenants], canary=1, wave_size=4, max_parallel=2, max_failures=0
    )

    def cancel_from_the_console() -> None:
        do_cancel_rollout(rollout=Rollout.objects.get(pk=rollout.pk))
        connection.close()  # this preview thread's own connection

    previews = RecordedPreviews(monkeypatch, after_first=cancel_from_the_console)
    assert rollout_advance(rollout_id=rollout.pk) == []

    by_slug = entries(rollout)
    first_two = [t.slug for t in tenants[:2]]
    assert set(previews.spans) == set(first_two)
    assert all(by_slug[slug].plan and by_slug[slug].status == "skipped" for slug in first_two)
    for tenant in tenants[2:]:
        entry = by_slug[tenant.slug]
        assert entry.plan is None and entry.status == "skipped" and entry.error == "rollout cancelled"
    rollout.refresh_from_db()
    assert rollout.status == "cancelled"


def test_plan_failures_past_the_budget_start_no_more_previews_and_halt_then_resume_plans_the_rest(
    provisioned_tenant, rollouts, monkeypatch
):
    tenants = [provisioned_tenant() for _ in range(4)]
    slugs = [t.slug for t in tenants]
    previews = RecordedPreviews(monkeypatch, failing=True)
    rollout = rollouts(do_start_rollout, tenants=slugs, canary=1, wave_size=3, max_parallel=2, max_failures=0)

    assert rollout.status == "halted" and "2 tenants failed" in rollout.halted_reason
    assert set(previews.spans) == set(slugs[:2])
    by_slug = entries(rollout)
    for slug in slugs[:2]:
        assert by_slug[slug].status == "failed" and "does not evaluate" in by_slug[slug].error
    assert all(by_slug[slug].status == "pending" and by_slug[slug].plan is None for slug in slugs[2:])

    monkeypatch.undo()
    rollout = rollouts(do_resume_rollout, rollout=rollout)
    assert rollout.status == "succeeded"
    assert {entry.status for entry in entries(rollout).values()} == {"unchanged"}
