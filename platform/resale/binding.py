"""The one way to reach a tenant's DynamoDB tables: its credentials, its clients, its bound models.

Every plane that touches a tenant's tables (the API, the console, the audit API, the history,
the search feed, webhooks, exports, offboarding, provisioning's apply and checks, the stream
consumer) gets its clients and model classes here, signed with that tenant's own credentials, so
isolation holds below the application code: a routing bug elsewhere reaches nothing of another
tenant, because the credentials in hand cannot. ``tests/test_import_contracts.py`` fails when any
other module builds a DynamoDB client.

- On AWS (no ``DYNAMODB_ENDPOINT``) a tenant's credentials come from STS ``AssumeRole`` of the IAM
  role its program created (recorded as ``role_arn``), tagged with the tenant, cached and refreshed
  before they expire by botocore's refreshable credentials.
- Locally they are an access key id of the tenant's own, derived from its slug: DynamoDB Local,
  run without ``-sharedDb``, keeps one database per access key id and region, so a client with
  tenant A's key cannot see tenant B's tables, and each tenant gets its own pool of DynamoDB
  Local's background jobs.

Table names come from the tenant's recorded provisioning outputs, never from request input.
Bound model classes are built once per tenant and table set and are immutable after that, so
concurrent requests of different tenants share nothing through which one could reach the
other's table. Their item operations leave through ``resale.dynamodb_wire`` (``DYNAMODB_TRANSPORT
=botocore`` sends them through botocore's client instead), signed per tenant, over one pool of
kept-alive connections per endpoint: a bound tenant costs small class objects and a signer, not a
botocore client. Table management and streams use botocore clients built from one shared
botocore session (its service models loaded once), one per tenant and service, cached.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from threading import Lock
from typing import Any, Protocol

from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    Credentials,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import ClientError
from botocore.session import Session, get_session
from django.conf import settings
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import CancellationReason, VerboseClientError
from pynamodb.models import Model

from resale.dynamodb_wire import ITEM_OPERATIONS, CurlHandlePool, DynamoDBWire, WireSettings
from resale.streams.wake import wake_notes
from resale.tables import TENANT_TABLE_MODELS

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


class TenantNotRoutable(Exception):
    """The tenant has no recorded tables (not provisioned yet, or offboarded) or no role on AWS."""


class TenantLike(Protocol):
    slug: str
    resources: Mapping[str, Any]


@dataclass(frozen=True)
class TenantRef:
    """What binding needs of a tenant: its slug, its recorded role and table names."""

    slug: str
    role_arn: str | None = None
    table_names: tuple[tuple[str, str], ...] = field(default=())

    @property
    def tables(self) -> dict[str, str]:
        return dict(self.table_names)


def tenant_ref(tenant: "TenantLike | TenantRef") -> TenantRef:
    """The binding reference of a registry tenant (or of anything with ``slug`` and ``resources``)."""
    if isinstance(tenant, TenantRef):
        return tenant
    resources = tenant.resources or {}
    return TenantRef(
        slug=tenant.slug,
        role_arn=resources.get("role_arn"),
        table_names=tuple(sorted((resources.get("tables") or {}).items())),
    )


def local_access_key_id(slug: str) -> str:
    """The tenant's own access key id on DynamoDB Local, which accepts only letters and digits.

    Slugs are lower-case letters, digits and ``-``; ``-`` becomes ``X``, which no slug holds, so two
    tenants never share a key (a namespace).
    """
    return "tenant" + slug.replace("-", "X")


# Credentials ------------------------------------------------------------------------------------

_session_lock = Lock()


@lru_cache(maxsize=1)
def _base_session() -> Session:
    """One botocore session: service models are loaded once and shared by every client."""
    return get_session()


@lru_cache(maxsize=4096)
def _credentials(slug: str, role_arn: str | None, endpoint: str | None) -> Credentials:
    if endpoint:
        return Credentials(local_access_key_id(slug), settings.AWS_SECRET_ACCESS_KEY)
    if not role_arn:
        raise TenantNotRoutable(f"tenant {slug} has no recorded role to assume")
    session = _base_session()
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=session.create_client,
        source_credentials=session.get_credentials(),
        role_arn=role_arn,
        extra_args={
            "RoleSessionName": f"resale-{slug}"[:64],
            "Tags": [{"Key": "tenant", "Value": slug}],
        },
    )
    return DeferredRefreshableCredentials(refresh_using=fetcher.fetch_credentials, method="assume-role")


def tenant_credentials(tenant: "TenantLike | TenantRef") -> Credentials:
    """The tenant's own credentials (assumed-role ones refresh themselves before they expire)."""
    ref = tenant_ref(tenant)
    return _credentials(ref.slug, ref.role_arn, settings.DYNAMODB_ENDPOINT)


# botocore clients (table management, streams, transactions of the history) ----------------------


def _tenant_session(credentials: Credentials) -> Session:
    """A botocore session that signs with these credentials and shares the base session's loader."""
    session = get_session()
    session.register_component("data_loader", _base_session().get_component("data_loader"))
    session._credentials = credentials  # botocore has no public setter for refreshable credentials
    return session


def _client_config(connect_timeout: float, read_timeout: float, max_attempts: int) -> Config:
    return Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"max_attempts": max_attempts, "mode": "standard"},
        max_pool_connections=settings.DYNAMODB_MAX_POOL_CONNECTIONS,
    )


@lru_cache(maxsize=4096)
def _client(
    service: str, slug: str, role_arn: str | None, endpoint: str | None, region: str, timeouts: tuple
) -> BaseClient:
    session = _tenant_session(_credentials(slug, role_arn, endpoint))
    with _session_lock:  # botocore builds clients from shared components: one at a time
        return session.create_client(
            service, region_name=region, endpoint_url=endpoint, config=_client_config(*timeouts)
        )


def _tenant_client(service: str, tenant: "TenantLike | TenantRef", timeouts: tuple) -> BaseClient:
    ref = tenant_ref(tenant)
    return _client(service, ref.slug, ref.role_arn, settings.DYNAMODB_ENDPOINT, settings.AWS_REGION, timeouts)


def tenant_dynamodb_client(
    tenant: "TenantLike | TenantRef",
    *,
    connect_timeout: float = 3,
    read_timeout: float = 10,
    max_attempts: int = 3,
) -> BaseClient:
    """A botocore DynamoDB client signed with the tenant's credentials; built once, thread-safe."""
    return _tenant_client("dynamodb", tenant, (connect_timeout, read_timeout, max_attempts))


def tenant_streams_client(
    tenant: "TenantLike | TenantRef",
    *,
    connect_timeout: float = 3,
    read_timeout: float = 10,
    max_attempts: int = 3,
) -> BaseClient:
    """A botocore DynamoDB Streams client signed with the tenant's credentials."""
    return _tenant_client("dynamodbstreams", tenant, (connect_timeout, read_timeout, max_attempts))


def tenant_sqs_client(tenant: "TenantLike | TenantRef", *, wait_seconds: int = 0) -> BaseClient:
    """An SQS client signed with the tenant's credentials, for its stream-effects queue; its read
    timeout outlasts a long poll of ``wait_seconds``."""
    ref = tenant_ref(tenant)
    timeouts = (3, wait_seconds + 10, 3)
    endpoint = settings.STREAM_EFFECTS_SQS_ENDPOINT
    return _client("sqs", ref.slug, ref.role_arn, endpoint, settings.AWS_REGION, timeouts)


@lru_cache(maxsize=8)
def _platform_client(endpoint: str | None, region: str, connect_timeout: float, read_timeout: float):
    keys = (
        {
            "aws_access_key_id": settings.AWS_ACCESS_KEY_ID,
            "aws_secret_access_key": settings.AWS_SECRET_ACCESS_KEY,
        }
        if endpoint
        else {}
    )
    with _session_lock:
        return _base_session().create_client(
            "dynamodb",
            region_name=region,
            endpoint_url=endpoint,
            config=_client_config(connect_timeout, read_timeout, 1),
            **keys,
        )


def platform_dynamodb_client(*, connect_timeout: float = 2, read_timeout: float = 2) -> BaseClient:
    """The platform's own client, for the readiness probe only: its credentials reach no tenant's tables."""
    return _platform_client(settings.DYNAMODB_ENDPOINT, settings.AWS_REGION, connect_timeout, read_timeout)


# Bound PynamoDB models ---------------------------------------------------------------------------


def _wire_settings() -> WireSettings:
    return WireSettings(
        endpoint_url=_endpoint_url(),
        region=settings.AWS_REGION,
        max_pool_connections=settings.DYNAMODB_MAX_POOL_CONNECTIONS,
        connect_timeout_seconds=settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS,
        read_timeout_seconds=settings.DYNAMODB_READ_TIMEOUT_SECONDS,
        max_attempts=1 + settings.DYNAMODB_MAX_RETRY_ATTEMPTS,
        ca_bundle=_base_session().get_config_variable("ca_bundle"),
        deadline_seconds=settings.DYNAMODB_CALL_DEADLINE_SECONDS,
    )


def _endpoint_url() -> str:
    return settings.DYNAMODB_ENDPOINT or f"https://dynamodb.{settings.AWS_REGION}.amazonaws.com"


_handle_pools: dict[WireSettings, CurlHandlePool] = {}
_handle_pools_lock = Lock()


def _shared_handles(wire_settings: WireSettings) -> CurlHandlePool:
    """One pool of kept-alive connections per endpoint and timeouts, shared by every tenant."""
    with _handle_pools_lock:
        pool = _handle_pools.get(wire_settings)
        if pool is None:
            maker = DynamoDBWire(wire_settings, credentials=lambda: None)
            pool = CurlHandlePool(maker.new_handle, max_idle=wire_settings.max_pool_connections)
            _handle_pools[wire_settings] = pool
    return pool


class TenantConnection(Connection):
    """A PynamoDB connection that signs with one tenant's credentials.

    Item operations go through a ``DynamoDBWire`` over the endpoint's shared connection pool;
    anything else (rare: PynamoDB describes no table, its metadata is added at bind time) goes
    through a botocore client of this tenant's, built on first use.
    """

    def __init__(self, *, slug: str, credentials: Credentials, use_wire: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.slug = slug
        self._tenant_credentials = credentials
        wire_settings = _wire_settings()
        self.wire = (
            DynamoDBWire(
                wire_settings, credentials=lambda: credentials, handles=_shared_handles(wire_settings)
            )
            if use_wire
            else None
        )

    @property
    def session(self) -> Session:
        if getattr(self._local, "session", None) is None:
            self._local.session = _tenant_session(self._tenant_credentials)
        return self._local.session

    def _make_api_call(self, operation_name: str, operation_kwargs: dict) -> dict:
        result = self._send(operation_name, operation_kwargs)
        if operation_name in WRITE_OPERATIONS:
            wake_notes.note(self.slug)  # the consumer reads this tenant's streams at once
        return result

    def _send(self, operation_name: str, operation_kwargs: dict) -> dict:
        if self.wire is None or operation_name not in ITEM_OPERATIONS:
            return super()._make_api_call(operation_name, operation_kwargs)
        try:
            return self.wire.call(operation_name, operation_kwargs)
        except ClientError as error:
            raise _verbose_client_error(
                error, operation_name, self._get_table_name_for_error_context(operation_kwargs)
            ) from error


def _verbose_client_error(error: ClientError, operation_name: str, table_name: str) -> VerboseClientError:
    """PynamoDB's translation of a botocore ``ClientError`` (``Connection._make_api_call``)."""
    headers = error.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    reasons = error.response.get("CancellationReasons", [])
    return VerboseClientError(
        {
            "Error": error.response.get("Error", {}),
            "ResponseMetadata": error.response.get("ResponseMetadata", {}),
        },
        operation_name,
        {"request_id": headers.get("x-amzn-requestid", ""), "table_name": table_name},
        cancellation_reasons=(
            CancellationReason(
                code=reason["Code"], message=reason.get("Message"), raw_item=reason.get("Item")
            )
            if reason["Code"] != "None"
            else None
            for reason in reasons
        ),
    )


class _SharedTableConnection(TableConnection):
    """A ``TableConnection`` over the tenant's connection instead of one of its own."""

    def __init__(self, table_name: str, connection: Connection) -> None:  # noqa: D107
        self.table_name = table_name
        self.connection = connection


class _BoundModel:
    """Mixin for bound classes: every call goes through the tenant connection set at bind time."""

    _bound_connection: TableConnection

    @classmethod
    def _get_connection(cls) -> TableConnection:
        return cls._bound_connection


def _meta_table_of(model: type[Model]):
    """PynamoDB's own description of the table (keys, indexes), built without any client."""
    return Model.__dict__["_get_connection"].__func__(model).get_meta_table()


def _bind(model: type[Model], *, slug: str, table_name: str, connection: Connection) -> type[Model]:
    meta = type("Meta", (model.Meta,), {"table_name": table_name, "region": connection.region})
    namespace = {"Meta": meta, "DoesNotExist": model.DoesNotExist, "__module__": model.__module__}
    bound = type(f"{model.__name__}[{slug}]", (_BoundModel, model), namespace)
    if table_name not in connection._tables:  # a tenant's tables rebound after a settings change
        connection.add_meta_table(_meta_table_of(bound))
    bound._connection = None
    bound._bound_connection = _SharedTableConnection(table_name, connection)
    return bound


@dataclass(frozen=True)
class TenantModels:
    tenant: TenantRef
    listings: type[Model]
    orders: type[Model]
    links: type[Model]
    clicks: type[Model]
    idempotency: type[Model]
    history: type[Model]
    connection: Connection

    @property
    def slug(self) -> str:
        return self.tenant.slug


def _connection_settings() -> tuple:
    """What a tenant connection is built from: a change (a test's dead endpoint) binds anew."""
    return (
        settings.DYNAMODB_ENDPOINT,
        settings.AWS_REGION,
        settings.DYNAMODB_TRANSPORT,
        settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS,
        settings.DYNAMODB_READ_TIMEOUT_SECONDS,
        settings.DYNAMODB_MAX_RETRY_ATTEMPTS,
        settings.DYNAMODB_CALL_DEADLINE_SECONDS,
        settings.DYNAMODB_MAX_POOL_CONNECTIONS,
    )


_connections: dict[tuple, TenantConnection] = {}
_bound: dict[tuple, TenantModels] = {}
_bound_lock = Lock()


def tenant_connection(tenant: "TenantLike | TenantRef") -> TenantConnection:
    """The tenant's PynamoDB connection (for transactions across its tables), built once, cached."""
    ref = tenant_ref(tenant)
    key = (ref.slug, ref.role_arn, *_connection_settings())
    connection = _connections.get(key)
    if connection is not None:
        return connection
    with _bound_lock:
        connection = _connections.get(key)
        if connection is None:
            connection = TenantConnection(
                slug=ref.slug,
                credentials=tenant_credentials(ref),
                use_wire=settings.DYNAMODB_TRANSPORT == "wire",
                region=settings.AWS_REGION,
                host=settings.DYNAMODB_ENDPOINT,
                connect_timeout_seconds=settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS,
                read_timeout_seconds=settings.DYNAMODB_READ_TIMEOUT_SECONDS,
                max_retry_attempts=settings.DYNAMODB_MAX_RETRY_ATTEMPTS,
                max_pool_connections=settings.DYNAMODB_MAX_POOL_CONNECTIONS,
            )
            _connections[key] = connection
    return connection


def tenant_models(tenant: "TenantLike | TenantRef") -> TenantModels:
    """The model classes bound to the tenant's recorded tables and credentials, built once, cached."""
    ref = tenant_ref(tenant)
    tables = ref.tables
    missing = set(TENANT_TABLE_MODELS) - set(tables)
    if missing:
        raise TenantNotRoutable(f"tenant {ref.slug} has no tables recorded for {sorted(missing)}")
    cache_key = (ref, *_connection_settings())
    bound = _bound.get(cache_key)
    if bound is not None:
        return bound
    connection = tenant_connection(ref)
    with _bound_lock:
        bound = _bound.get(cache_key)
        if bound is None:
            bound = TenantModels(
                tenant=ref,
                connection=connection,
                **{
                    role: _bind(model, slug=ref.slug, table_name=tables[role], connection=connection)
                    for role, model in TENANT_TABLE_MODELS.items()
                },
            )
            _bound[cache_key] = bound
    return bound
