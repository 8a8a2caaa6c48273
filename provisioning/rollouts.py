"""Rollouts: the current tenant program applied to many tenants, canary first, then in waves.

A rollout is created with its tenants placed in waves (wave 1: ``canary`` tenants, then
``wave_size`` each). Every tenant is planned first (the engine's preview, what ``pulumi
preview`` shows), ``max_parallel`` at once, then applied through an update run of its own
(``provisioning.updates``): at most ``max_parallel`` at once, and a wave starts only when every
tenant of the one before it has finished. (Planning one tenant at a time, about 8 s each on a
loaded machine, would keep a 300-tenant fleet's canary waiting some 40 minutes.) More failures than
``max_failures`` halt the rollout: nothing new starts, what is done stays done, running tenants
finish. ``rollout_resume`` retries the failed tenants (after a fix) and goes on;
``rollout_cancel`` starts nothing more and lets running tenants finish.

Crash safety: each change is a short transaction under the rollout's row lock, and no lock is
held while a tenant is planned or applied. Only the previews run on the planning pool's threads;
the registry is read and written from the task's own thread, so a plan is kept as soon as it is
made and a redelivered task plans only what is still unplanned. ``rollout_advance`` is
idempotent and is called after every change, so a lost or repeated task converges: an entry
claimed as running whose worker died is applied again by the redelivered task, and its update
run commits once.

Tenants whose turn comes while they are offboarding or offboarded are skipped. A tenant busy
with another run (a tier change, say) waits: its entry goes back to pending and is tried again.
Tenants created after the rollout are not in it; their onboarding applies the current program.
"""

from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from provisioning.engines.base import program_config
from provisioning.engines.selection import provisioning_engine
from provisioning.errors import (
    TRANSIENT_ERRORS,
    NoRolloutTargets,
    RolloutFinished,
    RolloutNotResumable,
    TenantBusy,
    TenantNotProvisioned,
    UnknownTenants,
)
from provisioning.models import ProvisioningRun, Rollout, RolloutTenant
from provisioning.updates import (
    UPDATABLE_STATUSES,
    changes_anything,
    run_update,
    update_run_create,
    update_run_fail,
)
from tenants.models import Tenant

ALL = "all"
E = RolloutTenant.Status
TERMINAL = (E.UNCHANGED, E.CHANGED, E.FAILED, E.SKIPPED)


def _waves(count: int, *, canary: int, wave_size: int) -> list[int]:
    """The wave number of each of ``count`` tenants in order: canary tenants first, then full waves."""
    canary = min(canary, count)
    waves = [1] * canary
    first = 2 if canary else 1
    waves += [first + index // wave_size for index in range(count - canary)]
    return waves


def _selected_tenants(tenants: str | Sequence[str]) -> list[Tenant]:
    if not tenants:
        raise NoRolloutTargets(
            'Name the tenants: "all", or a non-empty list of slugs.',
            errors={"tenants": ['"all" or a non-empty list of tenant slugs.']},
        )
    if tenants == ALL:
        return list(Tenant.objects.filter(status__in=UPDATABLE_STATUSES).order_by("slug"))
    found = {tenant.slug: tenant for tenant in Tenant.objects.filter(slug__in=tenants)}
    unknown = sorted(set(tenants) - set(found))
    if unknown:
        raise UnknownTenants(f"No such tenants: {', '.join(unknown)}.", errors={"tenants": unknown})
    return [found[slug] for slug in dict.fromkeys(tenants)]


def rollout_create(
    *,
    tenants: str | Sequence[str],
    canary: int,
    wave_size: int,
    max_parallel: int,
    max_failures: int,
    preview: bool = False,
    actor: AbstractBaseUser | None = None,
) -> Rollout:
    """Records a rollout over the tenants (``"all"``: every active or suspended one), in waves."""
    selected = _selected_tenants(tenants)
    with transaction.atomic():
        rollout = Rollout.objects.create(
            canary=canary,
            wave_size=wave_size,
            max_parallel=max_parallel,
            max_failures=max_failures,
            preview=preview,
            created_by=actor,
        )
        RolloutTenant.objects.bulk_create(
            RolloutTenant(
                rollout=rollout,
                tenant=tenant,
                wave=wave,
                position=position,
                **(
                    {}
                    if tenant.status in UPDATABLE_STATUSES
                    else {"status": E.SKIPPED, "error": f"tenant is {tenant.status}"}
                ),
            )
            for position, (tenant, wave) in enumerate(
                zip(selected, _waves(len(selected), canary=canary, wave_size=wave_size), strict=True)
            )
        )
    return rollout


def _keep_plan(entry: RolloutTenant, preview: Future) -> None:
    """Keeps the tenant's plan; a failed preview fails the entry, a transient error is raised."""
    try:
        plan = preview.result()
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:  # noqa: BLE001 - the tenant's reason, kept on its entry
        RolloutTenant.objects.filter(pk=entry.pk, status=E.PENDING).update(
            status=E.FAILED, error=f"plan: {type(exc).__name__}: {exc}", plan=[], updated_at=timezone.now()
        )
        return
    RolloutTenant.objects.filter(pk=entry.pk).update(
        plan=plan, planned_changes=changes_anything(plan), updated_at=timezone.now()
    )


def _planning_goes_on(rollout: Rollout) -> bool:
    """Whether another tenant may be planned: the rollout is running (not cancelled or halted)
    and its failures are within the error budget, past which it halts anyway."""
    rollout.refresh_from_db(fields=["status"])
    failures = rollout.tenants.filter(status=E.FAILED).count()
    return rollout.status == Rollout.Status.RUNNING and failures <= rollout.max_failures


def rollout_plan(*, rollout_id: int) -> None:
    """Plans every pending tenant not planned yet, ``max_parallel`` at once, each plan kept as soon
    as it is made. Each preview starts only after the rollout and the tenant are read again, so a
    cancel, a halt or an offboarding during planning starts no more previews (those under way are
    kept). A transient error starts no more either, keeps what finishes, then is raised for the
    task to retry."""
    rollout = Rollout.objects.get(pk=rollout_id)
    unplanned = deque(
        rollout.tenants.filter(status=E.PENDING, plan__isnull=True).select_related("tenant", "tenant__cell")
    )
    engine = provisioning_engine()
    parallel = max(1, rollout.max_parallel)
    previews: dict[Future, RolloutTenant] = {}
    transient: BaseException | None = None
    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix=f"rollout-{rollout_id}-plan") as pool:
        while unplanned or previews:
            while unplanned and len(previews) < parallel:
                if not _planning_goes_on(rollout):
                    unplanned.clear()
                    break
                entry = unplanned.popleft()
                entry.tenant.refresh_from_db(fields=["status"])
                if entry.tenant.status not in UPDATABLE_STATUSES:
                    _skip(entry.pk, f"tenant is {entry.tenant.status}")
                    continue
                config = program_config(entry.tenant, entry.tenant.cell)
                previews[pool.submit(engine.preview, config)] = entry
            if not previews:
                break
            done, _ = wait(previews, return_when=FIRST_COMPLETED)
            for preview in done:
                try:
                    _keep_plan(previews.pop(preview), preview)
                except TRANSIENT_ERRORS as exc:
                    transient = transient or exc
                    unplanned.clear()
    if transient is not None:
        raise transient


def _skip(entry_id: int, reason: str) -> None:
    RolloutTenant.objects.filter(pk=entry_id, status__in=(E.PENDING, E.RUNNING)).update(
        status=E.SKIPPED, error=reason, updated_at=timezone.now()
    )


def _finish(rollout: Rollout, status: str, reason: str = "") -> None:
    rollout.status = status
    rollout.halted_reason = reason
    rollout.finished_at = timezone.now() if status != Rollout.Status.HALTED else None
    rollout.save(update_fields=["status", "halted_reason", "finished_at"])


def rollout_advance(*, rollout_id: int) -> list[int]:
    """Plans what is unplanned, then claims the next tenants to apply (their entry ids), or halts
    or ends the rollout."""
    if Rollout.objects.filter(pk=rollout_id, status=Rollout.Status.RUNNING).exists():
        rollout_plan(rollout_id=rollout_id)
    with transaction.atomic():
        rollout = Rollout.objects.select_for_update().get(pk=rollout_id)
        if rollout.status != Rollout.Status.RUNNING:
            return []
        entries = list(rollout.tenants.select_for_update().order_by("wave", "position"))
        if rollout.preview:
            _finish(rollout, Rollout.Status.SUCCEEDED)
            return []
        failures = sum(1 for entry in entries if entry.status == E.FAILED)
        if failures > rollout.max_failures:
            _finish(
                rollout,
                Rollout.Status.HALTED,
                f"{failures} tenants failed; the error budget is {rollout.max_failures}",
            )
            return []
        for wave in sorted({entry.wave for entry in entries}):
            in_wave = [entry for entry in entries if entry.wave == wave]
            if all(entry.status in TERMINAL for entry in in_wave):
                continue
            running = sum(1 for entry in in_wave if entry.status == E.RUNNING)
            pending = [entry for entry in in_wave if entry.status == E.PENDING]
            started = pending[: max(0, rollout.max_parallel - running)]
            for entry in started:
                entry.status = E.RUNNING
                entry.save(update_fields=["status", "updated_at"])
            return [entry.pk for entry in started]
        _finish(rollout, Rollout.Status.SUCCEEDED)
    return []


@dataclass(frozen=True)
class ApplyOutcome:
    """The entry's rollout, and whether its tenant was busy with another run (it waits)."""

    rollout_id: int
    waiting: bool = False


def _entry_locked(entry_id: int) -> RolloutTenant:
    return RolloutTenant.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=entry_id)


def _claim_run(entry_id: int) -> tuple[RolloutTenant, bool]:
    """Gives the running entry its update run; returns the entry and whether the tenant is busy."""
    with transaction.atomic():
        entry = _entry_locked(entry_id)
        if entry.status != E.RUNNING or entry.run_id is not None:
            return entry, False
        if entry.tenant.status not in UPDATABLE_STATUSES:
            _skip(entry.pk, f"tenant is {entry.tenant.status}")
            entry.refresh_from_db()
            return entry, False
        try:
            entry.run = update_run_create(tenant=entry.tenant)
        except TenantBusy as exc:
            entry.status, entry.error = E.PENDING, f"waiting: {exc}"
            entry.save(update_fields=["status", "error", "updated_at"])
            return entry, True
        except TenantNotProvisioned as exc:
            entry.status, entry.error = E.SKIPPED, str(exc)
            entry.save(update_fields=["status", "error", "updated_at"])
            return entry, False
        entry.error = ""
        entry.save(update_fields=["run", "error", "updated_at"])
    return entry, False


def rollout_tenant_apply(*, entry_id: int) -> ApplyOutcome:
    """Applies the program to one claimed tenant of a rollout and records what it did."""
    entry, waiting = _claim_run(entry_id)
    if entry.status != E.RUNNING:
        return ApplyOutcome(entry.rollout_id, waiting)
    run = run_update(run_id=entry.run_id)
    with transaction.atomic():
        entry = _entry_locked(entry_id)
        if entry.status == E.RUNNING:
            if run.status == ProvisioningRun.Status.SUCCEEDED:
                entry.status = E.CHANGED if changes_anything(run.result) else E.UNCHANGED
                entry.result = run.result
            else:
                entry.status, entry.error = E.FAILED, run.error
            entry.save(update_fields=["status", "result", "error", "updated_at"])
    return ApplyOutcome(entry.rollout_id)


def rollout_tenant_fail(*, entry_id: int, error: BaseException) -> None:
    """Fails the entry (and its run) when its task gives up, e.g. after its retries ran out."""
    entry = RolloutTenant.objects.get(pk=entry_id)
    if entry.run_id is not None:
        update_run_fail(run_id=entry.run_id, error=error)
    RolloutTenant.objects.filter(pk=entry_id, status=E.RUNNING).update(
        status=E.FAILED, error=f"{type(error).__name__}: {error}", updated_at=timezone.now()
    )


def rollout_resume(*, rollout: Rollout) -> Rollout:
    """Goes on from a halt: the failed tenants are tried again, then the waves continue."""
    with transaction.atomic():
        locked = Rollout.objects.select_for_update().get(pk=rollout.pk)
        if locked.status != Rollout.Status.HALTED:
            raise RolloutNotResumable(
                f"Rollout {locked.pk} is {locked.status}; only a halted rollout resumes."
            )
        locked.tenants.filter(status=E.FAILED).update(
            status=E.PENDING, run=None, error="", plan=None, updated_at=timezone.now()
        )
        _finish(locked, Rollout.Status.RUNNING)
    return locked


def rollout_cancel(*, rollout: Rollout) -> Rollout:
    """Starts no more tenants; running ones finish. Pending tenants are skipped."""
    with transaction.atomic():
        locked = Rollout.objects.select_for_update().get(pk=rollout.pk)
        if locked.status not in (Rollout.Status.RUNNING, Rollout.Status.HALTED):
            raise RolloutFinished(f"Rollout {locked.pk} is {locked.status}.")
        locked.tenants.filter(status=E.PENDING).update(
            status=E.SKIPPED, error="rollout cancelled", updated_at=timezone.now()
        )
        _finish(locked, Rollout.Status.CANCELLED)
    return locked
