"""Tenant-bound PynamoDB models: the only way the data plane reaches a tenant's tables.

The table names come from the tenant's recorded provisioning outputs, never from request
input. Bound classes are built once per tenant and table set, then reused; they are
immutable after construction, so concurrent requests of different tenants share nothing
through which one could reach the other's table.

PynamoDB gives every model class its own ``TableConnection`` and so its own botocore client
(about 10 MiB each). Bound classes here override ``_get_connection`` to return a light
``TableConnection`` that wraps ONE shared ``Connection`` per endpoint, region and credentials:
a thousand bound tenants then cost a thousand small class objects, not a thousand clients.
The shared client's pool is sized by ``DYNAMODB_MAX_POOL_CONNECTIONS`` (the server's concurrency).

Item operations (get, put, update, delete, query, scan, batch, transactions) leave through
``resale.dynamodb_wire`` rather than botocore's client, which costs twice the CPU per call
(``DYNAMODB_TRANSPORT=botocore`` turns this off); table management stays on botocore.

With ``DYNAMODB_ASSUME_TENANT_ROLES`` on (in AWS), a tenant whose provisioning recorded a
``role_arn`` gets a connection of its own whose credentials come from STS AssumeRole on that
role (refreshed before they expire), so even a routing bug cannot reach another tenant's
tables: that role can touch only its tenant's tables. This costs one client per tenant.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock

from botocore.credentials import AssumeRoleCredentialFetcher, DeferredRefreshableCredentials
from botocore.exceptions import ClientError
from botocore.session import Session, get_session
from django.conf import settings
from pynamodb.connection import Connection, TableConnection
from pynamodb.exceptions import CancellationReason, VerboseClientError
from pynamodb.models import Model

from resale.dynamodb_wire import ITEM_OPERATIONS, DynamoDBWire, WireSettings
from resale.tables import TENANT_TABLE_MODELS


class TenantNotRoutable(Exception):
    """The tenant has no recorded tables (not provisioned yet, or offboarded)."""


@dataclass(frozen=True)
class ConnectionSettings:
    host: str | None
    region: str
    aws_access_key_id: str | None
    aws_secret_access_key: str | None
    max_pool_connections: int
    connect_timeout_seconds: float
    read_timeout_seconds: float
    max_retry_attempts: int
    transport: str = "wire"
    role_arn: str | None = None


def connection_settings(role_arn: str | None = None) -> ConnectionSettings:
    local = bool(settings.DYNAMODB_ENDPOINT)
    return ConnectionSettings(
        host=settings.DYNAMODB_ENDPOINT,
        region=settings.AWS_REGION,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID if local else None,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY if local else None,
        max_pool_connections=settings.DYNAMODB_MAX_POOL_CONNECTIONS,
        connect_timeout_seconds=settings.DYNAMODB_CONNECT_TIMEOUT_SECONDS,
        read_timeout_seconds=settings.DYNAMODB_READ_TIMEOUT_SECONDS,
        max_retry_attempts=settings.DYNAMODB_MAX_RETRY_ATTEMPTS,
        transport=settings.DYNAMODB_TRANSPORT,
        role_arn=role_arn if settings.DYNAMODB_ASSUME_TENANT_ROLES else None,
    )


class _WireConnection(Connection):
    """A PynamoDB connection that sends item operations through a ``DynamoDBWire``.

    The wire reaches the endpoint botocore resolved and signs with the botocore session's
    credentials; errors are translated exactly as PynamoDB translates botocore's.
    """

    def __init__(self, *, use_wire: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self._use_wire = use_wire
        self._wire: DynamoDBWire | None = None
        self._wire_credentials = None
        self._wire_lock = Lock()

    @property
    def wire(self) -> DynamoDBWire:
        if self._wire is None:
            with self._wire_lock:
                if self._wire is None:
                    self._wire = DynamoDBWire(
                        WireSettings(
                            endpoint_url=self.client.meta.endpoint_url,
                            region=self.region,
                            max_pool_connections=self._max_pool_connections,
                            connect_timeout_seconds=self._connect_timeout_seconds,
                            read_timeout_seconds=self._read_timeout_seconds,
                            max_attempts=1 + self._max_retry_attempts_exception,
                            ca_bundle=self.session.get_config_variable("ca_bundle"),
                        ),
                        credentials=self._credentials_for_wire,
                    )
        return self._wire

    def _credentials_for_wire(self):
        """The session's credentials, looked up again while the lookup finds none (as PynamoDB does
        for its client, so a metadata-service hiccup at start does not poison the connection)."""
        if self._wire_credentials is None:
            self._wire_credentials = self.session.get_credentials()
        return self._wire_credentials

    def _make_api_call(self, operation_name: str, operation_kwargs: dict) -> dict:
        if not self._use_wire or operation_name not in ITEM_OPERATIONS:
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
        {"Error": error.response.get("Error", {})},
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


class _AssumedRoleConnection(_WireConnection):
    """A PynamoDB connection whose botocore session signs with STS credentials of one role."""

    def __init__(self, *, role_arn: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self._role_arn = role_arn

    @property
    def session(self) -> Session:
        if getattr(self._local, "session", None) is None:
            session = get_session()
            fetcher = AssumeRoleCredentialFetcher(
                client_creator=session.create_client,
                source_credentials=session.get_credentials(),
                role_arn=self._role_arn,
                extra_args={"RoleSessionName": "resale-tenant-api"},
            )
            session._credentials = DeferredRefreshableCredentials(
                refresh_using=fetcher.fetch_credentials, method="assume-role"
            )
            self._local.session = session
        return self._local.session


_connections: dict[ConnectionSettings, Connection] = {}
_connections_lock = Lock()


def shared_connection(config: ConnectionSettings | None = None) -> Connection:
    """The one PynamoDB ``Connection`` (one botocore client and pool) for these settings."""
    config = config or connection_settings()
    connection = _connections.get(config)
    if connection is not None:
        return connection
    with _connections_lock:
        connection = _connections.get(config)
        if connection is None:
            connection_class = _AssumedRoleConnection if config.role_arn else _WireConnection
            extra = {"role_arn": config.role_arn} if config.role_arn else {}
            connection = connection_class(
                **extra,
                use_wire=config.transport == "wire",
                region=config.region,
                host=config.host,
                connect_timeout_seconds=config.connect_timeout_seconds,
                read_timeout_seconds=config.read_timeout_seconds,
                max_retry_attempts=config.max_retry_attempts,
                max_pool_connections=config.max_pool_connections,
                aws_access_key_id=config.aws_access_key_id,
                aws_secret_access_key=config.aws_secret_access_key,
            )
            connection.client  # noqa: B018 - build the botocore client now, under the lock, once
            _connections[config] = connection
    return connection


class _SharedTableConnection(TableConnection):
    """A ``TableConnection`` that reuses a shared ``Connection`` instead of building its own."""

    def __init__(self, table_name: str, connection: Connection) -> None:  # noqa: D107
        self.table_name = table_name
        self.connection = connection


class _SharedConnectionModel:
    """Mixin for bound classes: every call goes through the shared connection set at bind time."""

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
    bound = type(f"{model.__name__}[{slug}]", (_SharedConnectionModel, model), namespace)
    with _connections_lock:
        if table_name not in connection._tables:
            connection.add_meta_table(_meta_table_of(bound))
    bound._connection = None
    bound._bound_connection = _SharedTableConnection(table_name, connection)
    return bound


@dataclass(frozen=True)
class TenantModels:
    slug: str
    listings: type[Model]
    orders: type[Model]
    links: type[Model]
    clicks: type[Model]
    idempotency: type[Model]
    history: type[Model]
    connection: Connection


_bound: dict[tuple, TenantModels] = {}
_bound_lock = Lock()


def tenant_models(slug: str, table_names: Mapping[str, str], role_arn: str | None = None) -> TenantModels:
    """The model classes bound to one tenant's tables, built on first use and cached."""
    missing = set(TENANT_TABLE_MODELS) - set(table_names)
    if missing:
        raise TenantNotRoutable(f"tenant {slug} has no tables recorded for {sorted(missing)}")
    config = connection_settings(role_arn)
    cache_key = (slug, config, tuple(sorted((role, table_names[role]) for role in TENANT_TABLE_MODELS)))
    bound = _bound.get(cache_key)
    if bound is not None:
        return bound
    with _bound_lock:
        bound = _bound.get(cache_key)
        if bound is None:
            connection = shared_connection(config)
            bound = TenantModels(
                slug=slug,
                connection=connection,
                **{
                    role: _bind(model, slug=slug, table_name=table_names[role], connection=connection)
                    for role, model in TENANT_TABLE_MODELS.items()
                },
            )
            _bound[cache_key] = bound
    return bound


def bound_tenant_count() -> int:
    return len(_bound)
