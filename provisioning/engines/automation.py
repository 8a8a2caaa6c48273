"""The Automation API engine: the same tenant program run by the Pulumi CLI, one stack per tenant.

Chosen where the ``pulumi`` CLI is installed (production) or by ``PROVISIONING_ENGINE=automation``.
Each stack ``tenant-<slug>`` gets a workspace directory of its own under
``PULUMI_WORKSPACES_DIR``: the Automation API is not safe for concurrent stack creation in one
workspace (pulumi/pulumi#8186). State lives in ``PULUMI_BACKEND_URL``. When a DynamoDB endpoint
is configured (DynamoDB Local), the aws provider's ``endpoints`` point at it. A lock held by
another update is turned into ``StackLocked``, which the Celery task retries with backoff.
"""

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from pulumi import automation as auto

from provisioning.engines.base import Deployment
from provisioning.engines.evaluation import PROGRAM_MAIN, PROJECT, ProgramConfig
from resale.binding import local_access_key_id

PROGRAM_DIR = PROGRAM_MAIN.parent
ACTIONS = {
    auto.OpType.CREATE: "created",
    auto.OpType.UPDATE: "changed",
    auto.OpType.REPLACE: "replaced",
    auto.OpType.SAME: "unchanged",
    auto.OpType.DELETE: "deleted",
}
# The CLI reports a held lock as ConcurrentUpdateError only sometimes (pulumi/pulumi#11108);
# otherwise the CommandError's stderr says so in one of these ways.
LOCK_CONFLICT_MARKERS = ("the stack is currently locked", "another update is currently in progress")


class StackLocked(Exception):
    """Another update holds the stack's lock: try again later; the tenant has not failed."""


@contextmanager
def lock_conflicts_retried() -> Iterator[None]:
    try:
        yield
    except auto.ConcurrentUpdateError as exc:
        raise StackLocked(str(exc)) from exc
    except auto.CommandError as exc:
        if any(marker in str(exc).lower() for marker in LOCK_CONFLICT_MARKERS):
            raise StackLocked(str(exc)) from exc
        raise


def workspace_dir(slug: str) -> Path:
    return Path(settings.PULUMI_WORKSPACES_DIR) / slug


def project_settings(work_dir: Path) -> auto.ProjectSettings:
    """Pulumi.yaml of a tenant's workspace: the repository's program, run from the project's venv."""
    return auto.ProjectSettings(
        name=PROJECT,
        runtime=auto.ProjectRuntimeInfo(
            name="python", options={"toolchain": "pip", "virtualenv": sys.prefix}
        ),
        main=os.path.relpath(PROGRAM_DIR, work_dir),
        backend=auto.ProjectBackend(url=settings.PULUMI_BACKEND_URL),
    )


def workspace_options(config: ProgramConfig) -> auto.LocalWorkspaceOptions:
    work_dir = workspace_dir(config.slug)
    return auto.LocalWorkspaceOptions(
        work_dir=str(work_dir),
        project_settings=project_settings(work_dir),
        secrets_provider="passphrase",
        env_vars={
            "PULUMI_BACKEND_URL": settings.PULUMI_BACKEND_URL,
            "PULUMI_CONFIG_PASSPHRASE": settings.PULUMI_CONFIG_PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        },
    )


def automation_stack_config(config: ProgramConfig) -> dict[str, auto.ConfigValue]:
    """The stack's config as path keys (set with ``path=True``), endpoints included when local."""
    values = {key: auto.ConfigValue(value) for key, value in config.stack_config().items()}
    if settings.DYNAMODB_ENDPOINT:
        values.update(
            {
                "aws:endpoints[0].dynamodb": auto.ConfigValue(settings.DYNAMODB_ENDPOINT),
                "aws:skipCredentialsValidation": auto.ConfigValue("true"),
                "aws:skipRequestingAccountId": auto.ConfigValue("true"),
                "aws:skipMetadataApiCheck": auto.ConfigValue("true"),
                # The tenant's own namespace on DynamoDB Local, as the local engine applies it.
                "aws:accessKey": auto.ConfigValue(local_access_key_id(config.slug), secret=True),
                "aws:secretKey": auto.ConfigValue(settings.AWS_SECRET_ACCESS_KEY, secret=True),
            }
        )
    return values


def _step_recorder(records: list[dict]) -> Callable[[auto.EngineEvent], None]:
    def record(event: auto.EngineEvent) -> None:
        step = event.resource_pre_event or event.res_outputs_event
        if step is None or step.metadata.type == "pulumi:pulumi:Stack":
            return
        records.append(
            {
                "resource": step.metadata.urn.rsplit("::", 1)[-1],
                "type": step.metadata.type,
                "action": ACTIONS.get(step.metadata.op, str(step.metadata.op.value)),
                "changes": list(step.metadata.diffs or []),
            }
        )

    return record


class AutomationEngine:
    name = "automation"

    def _stack(self, config: ProgramConfig) -> auto.Stack:
        options = workspace_options(config)
        Path(options.work_dir).mkdir(parents=True, exist_ok=True)
        if settings.PULUMI_BACKEND_URL.startswith("file://"):
            Path(settings.PULUMI_BACKEND_URL.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        with lock_conflicts_retried():
            stack = auto.create_or_select_stack(config.stack_name, work_dir=options.work_dir, opts=options)
            stack.set_all_config(automation_stack_config(config), path=True)
        return stack

    def preview(self, config: ProgramConfig) -> list[dict]:
        stack = self._stack(config)
        plan: list[dict] = []
        with lock_conflicts_retried():
            stack.preview(on_event=_step_recorder(plan), color="never")
        return plan

    def deploy(self, config: ProgramConfig) -> Deployment:
        stack = self._stack(config)
        plan: list[dict] = []
        result: list[dict] = []
        with lock_conflicts_retried():
            stack.preview(on_event=_step_recorder(plan), color="never")
            up = stack.up(on_event=_step_recorder(result), color="never")
        outputs = {key: output.value for key, output in up.outputs.items()}
        return Deployment(plan=plan, result=result, outputs={**outputs, "engine": self.name})

    def destroy(self, config: ProgramConfig, *, table_names: list[str]) -> list[dict]:
        """Lifts deletion protection with an ``up``, then destroys the stack and removes it."""
        unprotected = ProgramConfig(**{**config.__dict__, "deletion_protection": False})
        stack = self._stack(unprotected)
        result: list[dict] = []
        with lock_conflicts_retried():
            stack.up(color="never")
            stack.destroy(on_event=_step_recorder(result), color="never")
            stack.workspace.remove_stack(config.stack_name)
        return result
