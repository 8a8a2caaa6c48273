"""Provisioning's own errors, and the ones worth retrying rather than failing a tenant for."""

from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from django.db import InterfaceError, OperationalError
from rest_framework import status

from httpkit.problems import ProblemError
from provisioning.engines.automation import StackLocked


class NothingToRetry(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Nothing to retry"


class TenantBusy(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Tenant busy"


class TableNotAnswering(Exception):
    """A table the program created does not answer a read."""


class ExportMismatch(Exception):
    """An export's line count differs from the table's item count: nothing is deleted."""


class RunClaimed(Exception):
    """Another worker holds the run's claim (``provisioning.claims``): try again later."""


TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    StackLocked,
    RunClaimed,
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    OperationalError,
    InterfaceError,
)
"""A step that raises one of these is retried by its task with backoff, not failed."""


class TenantNotProvisioned(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Tenant not provisioned"


class RolloutNotResumable(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Rollout not resumable"


class RolloutFinished(ProblemError):
    status_code = status.HTTP_409_CONFLICT
    title = "Rollout finished"


class NoRolloutTargets(ProblemError):
    """A rollout names no tenant: targets are ``"all"`` or slugs, never implied."""

    status_code = status.HTTP_400_BAD_REQUEST
    title = "No rollout targets"


class UnknownTenants(ProblemError):
    status_code = status.HTTP_400_BAD_REQUEST
    title = "Unknown tenants"
