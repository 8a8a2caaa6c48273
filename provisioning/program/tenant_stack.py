"""The tenant program's component: everything a tenant owns on AWS, declared from the table specs.

Per tenant: its DynamoDB tables (keys, GSIs, streams, TTL, point-in-time recovery, deletion
protection, tags; premium tenants replicate to a second region as global tables), one IAM role
whose policy reaches only those tables, their indexes and streams, and the stream consumers (a
Lambda function fed by one event source mapping per history-feeding stream, failures going to
an SQS dead-letter queue). Each concern is a component of its own under the TenantStack
(``TenantTables``, ``TenantAccessRole``, ``TenantStreamConsumers``). Nothing here does I/O:
Pulumi reads the code archive and talks to AWS.

The Lambda builds the history only: it has no network path to PostgreSQL, and is given none.
It hands each applied record (secrets left out) to the tenant's stream-effects queue, which
the platform's ``consume_stream_effects`` process drains into search and webhooks; a message it
cannot apply moves to the queue's own dead-letter queue (README, "Streams on AWS").
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from provisioning.table_specs import TableSpec
from tenants.tiers import tier_policy

COMPONENT_TYPE = "resale:tenant:TenantStack"
TABLES_TYPE = "resale:tenant:Tables"
ACCESS_ROLE_TYPE = "resale:tenant:AccessRole"
CONSUMERS_TYPE = "resale:tenant:StreamConsumers"
TABLE_DATA_ACTIONS = [
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
]
STREAM_READ_ACTIONS = [
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
EFFECTS_QUEUE_ACTIONS = [
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
]
LOG_RETENTION_DAYS = 30
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
EFFECTS_VISIBILITY_TIMEOUT_SECONDS = 60
EFFECTS_MAX_RECEIVE_COUNT = 10
"""The platform's effects consumer (``resale.streams.effects_queue``) deletes a message once its
effects are committed and leaves a poison one alone: after this many receives SQS moves it to
the effects dead-letter queue. A database outage fails whole batches, and the consumer backs
off up to a minute between tries, so an outage of several minutes dead-letters nothing."""


@dataclass(frozen=True)
class TenantStackArgs:
    slug: str
    tier: str
    tables: Sequence[TableSpec]
    resource_prefix: str
    consumer_handler: str
    consumer_code: pulumi.Archive
    consumer_runtime: str = "python3.11"
    replica_region: str | None = None
    deletion_protection: bool = True
    """False only on the way out: offboarding lifts it so that the stack can be destroyed."""
    trusted_principal_arns: Sequence[str] = field(default_factory=tuple)
    """Principals besides Lambda that may assume the tenant's role (the data plane, through STS)."""


def region_of(arn: str) -> str:
    return arn.split(":")[3]


def in_region(arn: str, region: str) -> str:
    """The same ARN in another region: where a global table's replica lives."""
    parts = arn.split(":")
    parts[3] = region
    return ":".join(parts)


def arn_beside(arn: str, service: str, resource: str) -> str:
    """The ARN of a resource in the same partition, region and account as ``arn``."""
    partition, region, account = arn.split(":")[1], region_of(arn), arn.split(":")[4]
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def tenant_access_policy(
    *,
    table_arns: Sequence[str],
    streamed_table_arns: Sequence[str],
    dead_letter_queue_arn: str,
    effects_queue_arn: str,
    function_log_group_arn: str,
    replica_region: str | None = None,
) -> dict:
    """The role's only policy: every resource it names belongs to this tenant."""
    tables = list(table_arns)
    if replica_region:
        tables += [in_region(arn, replica_region) for arn in table_arns]
    statements = [
        {
            "Sid": "TenantTables",
            "Effect": "Allow",
            "Action": TABLE_DATA_ACTIONS,
            "Resource": sorted(tables + [f"{arn}/index/*" for arn in tables]),
        },
        {
            "Sid": "TenantDeadLetterQueue",
            "Effect": "Allow",
            "Action": ["sqs:SendMessage"],
            "Resource": [dead_letter_queue_arn],
        },
        {
            "Sid": "TenantStreamEffectsQueue",
            "Effect": "Allow",
            "Action": EFFECTS_QUEUE_ACTIONS,
            "Resource": [effects_queue_arn],
        },
        {
            "Sid": "ConsumerLogs",
            "Effect": "Allow",
            "Action": LOG_ACTIONS,
            "Resource": [function_log_group_arn],
        },
    ]
    if streamed_table_arns:
        statements.insert(
            1,
            {
                "Sid": "TenantStreams",
                "Effect": "Allow",
                "Action": STREAM_READ_ACTIONS,
                "Resource": sorted(f"{arn}/stream/*" for arn in streamed_table_arns),
            },
        )
    return {"Version": "2012-10-17", "Statement": statements}


def effects_redrive_policy(dead_letter_queue_arn: str) -> str:
    return json.dumps(
        {"deadLetterTargetArn": dead_letter_queue_arn, "maxReceiveCount": EFFECTS_MAX_RECEIVE_COUNT}
    )


def assume_role_policy(slug: str, trusted_principal_arns: Sequence[str]) -> dict:
    statements = [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    if trusted_principal_arns:
        # The platform assumes the role with the tenant as session tag (resale.binding); a session
        # tagged with any other tenant is refused.
        statements.append(
            {
                "Effect": "Allow",
                "Principal": {"AWS": sorted(trusted_principal_arns)},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {"StringEquals": {"aws:RequestTag/tenant": slug}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def _table_args(spec: TableSpec, args: TenantStackArgs, replicated: bool) -> dict:
    table = {
        "name": spec.name,
        "billing_mode": spec.billing_mode,
        "hash_key": spec.hash_key,
        "range_key": spec.range_key,
        "attributes": [aws.dynamodb.TableAttributeArgs(name=a.name, type=a.type) for a in spec.attributes],
        "global_secondary_indexes": [
            aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=index.name,
                projection_type=index.projection_type,
                key_schemas=[
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                        attribute_name=index.hash_key, key_type="HASH"
                    ),
                    *(
                        [
                            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                                attribute_name=index.range_key, key_type="RANGE"
                            )
                        ]
                        if index.range_key
                        else []
                    ),
                ],
            )
            for index in spec.global_secondary_indexes
        ],
        "stream_enabled": spec.stream_view_type is not None,
        "stream_view_type": spec.stream_view_type,
        "point_in_time_recovery": aws.dynamodb.TablePointInTimeRecoveryArgs(
            enabled=spec.point_in_time_recovery
        ),
        "deletion_protection_enabled": spec.deletion_protection and args.deletion_protection,
        "tags": dict(spec.tags),
    }
    if spec.ttl_attribute:
        table["ttl"] = aws.dynamodb.TableTtlArgs(attribute_name=spec.ttl_attribute, enabled=True)
    if replicated:
        table["replicas"] = [
            aws.dynamodb.TableReplicaArgs(
                region_name=args.replica_region,
                point_in_time_recovery=spec.point_in_time_recovery,
                deletion_protection_enabled=spec.deletion_protection and args.deletion_protection,
                propagate_tags=True,
            )
        ]
    return table


def tenant_tags(args: TenantStackArgs) -> dict[str, str]:
    return {"resale:tenant": args.slug, "resale:tier": args.tier, "resale:managed-by": "pulumi"}


@dataclass(frozen=True)
class ConsumerNames:
    """The names of the stream consumers' resources, which the access role's policy names too."""

    function: str
    dead_letter_queue: str
    effects_queue: str

    @classmethod
    def of(cls, args: TenantStackArgs) -> "ConsumerNames":
        prefix = f"{args.resource_prefix}-{args.slug}"
        return cls(f"{prefix}-streams", f"{prefix}-streams-dlq", f"{prefix}-stream-effects")


class TenantConcern(pulumi.ComponentResource):
    """A component of one concern under a TenantStack, named after the stack and the concern."""

    def __init__(self, typ: str, stack: "TenantStack", concern: str) -> None:
        super().__init__(typ, f"{stack.child_prefix}-{concern}", None, pulumi.ResourceOptions(parent=stack))
        self._stack = stack

    def child_options(self, **options) -> pulumi.ResourceOptions:
        """A child's options, aliased to its URN under the stack itself.

        Each resource was declared directly under the TenantStack before the stack grew one
        component per concern; the alias keeps its URN, so existing stacks move it instead of
        replacing it.
        """
        return pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=self._stack)], **options)


class TenantTables(TenantConcern):
    """The tenant's DynamoDB tables by role, declared from the table specs."""

    def __init__(self, stack: "TenantStack") -> None:
        super().__init__(TABLES_TYPE, stack, "tables")
        args, name = stack.tenant_args, stack.child_prefix
        self.tables: dict[str, aws.dynamodb.Table] = {
            spec.role: aws.dynamodb.Table(
                f"{name}-{spec.role}",
                **_table_args(spec, args, replicated=stack.replica_region is not None),
                opts=self.child_options(),
            )
            for spec in args.tables
        }
        self.streamed = [spec.role for spec in args.tables if spec.feeds_history]
        self.table_names = pulumi.Output.from_input({role: table.name for role, table in self.tables.items()})
        self.stream_arns = pulumi.Output.from_input(
            {role: self.tables[role].stream_arn for role in self.streamed}
        )
        self.register_outputs({"tables": self.table_names, "streams": self.stream_arns})


class TenantAccessRole(TenantConcern):
    """The tenant's IAM role and its one policy, which reaches only the tenant's own resources.

    The policy names the consumers' queues and log group by the ARNs their names give (the same
    partition, region and account as the tables), so the role exists before the consumers that
    run with it, and the policy before their streams are mapped.
    """

    def __init__(self, stack: "TenantStack", tables: TenantTables) -> None:
        super().__init__(ACCESS_ROLE_TYPE, stack, "access")
        args, name, consumers = stack.tenant_args, stack.child_prefix, stack.consumer_names
        tags = tenant_tags(args)
        self.role = aws.iam.Role(
            f"{name}-role",
            name=f"{args.resource_prefix}-{args.slug}-data",
            description=f"Reaches only the tables and streams of tenant {args.slug}",
            assume_role_policy=json.dumps(assume_role_policy(args.slug, args.trusted_principal_arns)),
            tags=tags,
            opts=self.child_options(),
        )

        def policy_document(arns: dict) -> str:
            beside = arns["tables"][0]
            return json.dumps(
                tenant_access_policy(
                    table_arns=arns["tables"],
                    streamed_table_arns=arns["streamed"],
                    dead_letter_queue_arn=arn_beside(beside, "sqs", consumers.dead_letter_queue),
                    effects_queue_arn=arn_beside(beside, "sqs", consumers.effects_queue),
                    function_log_group_arn=arn_beside(
                        beside, "logs", f"log-group:/aws/lambda/{consumers.function}:*"
                    ),
                    replica_region=stack.replica_region,
                )
            )

        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name=f"{args.resource_prefix}-{args.slug}-data",
            role=self.role.id,
            policy=pulumi.Output.all(
                tables=[table.arn for table in tables.tables.values()],
                streamed=[tables.tables[role].arn for role in tables.streamed],
            ).apply(policy_document),
            opts=self.child_options(),
        )
        self.register_outputs({"role_arn": self.role.arn})


class TenantStreamConsumers(TenantConcern):
    """The Lambda that reads the history-feeding streams, its mappings, logs and queues."""

    def __init__(self, stack: "TenantStack", tables: TenantTables, access: TenantAccessRole) -> None:
        super().__init__(CONSUMERS_TYPE, stack, "consumers")
        args, name, names = stack.tenant_args, stack.child_prefix, stack.consumer_names
        tags = tenant_tags(args)

        def dead_letter_queue(suffix: str, queue_name: str, opts: pulumi.ResourceOptions) -> aws.sqs.Queue:
            return aws.sqs.Queue(
                f"{name}-{suffix}",
                name=queue_name,
                message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
                sqs_managed_sse_enabled=True,
                tags=tags,
                opts=opts,
            )

        self.dead_letter_queue = dead_letter_queue(
            "streams-dlq", names.dead_letter_queue, self.child_options()
        )
        # Declared after the split into components: it never lived under the stack, so no alias.
        self.effects_dead_letter_queue = dead_letter_queue(
            "stream-effects-dlq", f"{names.effects_queue}-dlq", pulumi.ResourceOptions(parent=self)
        )
        self.effects_queue = aws.sqs.Queue(
            f"{name}-stream-effects",
            name=names.effects_queue,
            message_retention_seconds=4 * 24 * 3600,
            visibility_timeout_seconds=EFFECTS_VISIBILITY_TIMEOUT_SECONDS,
            redrive_policy=self.effects_dead_letter_queue.arn.apply(effects_redrive_policy),
            sqs_managed_sse_enabled=True,
            tags=tags,
            opts=self.child_options(),
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-consumer-logs",
            name=f"/aws/lambda/{names.function}",
            retention_in_days=LOG_RETENTION_DAYS,
            tags=tags,
            opts=self.child_options(),
        )
        self.function = aws.lambda_.Function(
            f"{name}-consumer",
            name=names.function,
            role=access.role.arn,
            runtime=args.consumer_runtime,
            handler=args.consumer_handler,
            code=args.consumer_code,
            timeout=60,
            memory_size=256,
            environment=aws.lambda_.FunctionEnvironmentArgs(
                variables={
                    "RESALE_TENANT": args.slug,
                    "RESALE_TABLES": json.dumps(
                        {spec.role: spec.name for spec in args.tables}, sort_keys=True
                    ),
                    "RESALE_EFFECTS_QUEUE_URL": self.effects_queue.url,
                }
            ),
            tags=tags,
            opts=self.child_options(depends_on=[self.log_group]),
        )
        self.mappings: dict[str, aws.lambda_.EventSourceMapping] = {
            role: aws.lambda_.EventSourceMapping(
                f"{name}-{role}-stream",
                event_source_arn=tables.tables[role].stream_arn,
                function_name=self.function.arn,
                starting_position="TRIM_HORIZON",
                batch_size=100,
                maximum_batching_window_in_seconds=1,
                bisect_batch_on_function_error=True,
                function_response_types=["ReportBatchItemFailures"],
                maximum_retry_attempts=5,
                maximum_record_age_in_seconds=24 * 3600,
                destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
                    on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                        destination_arn=self.dead_letter_queue.arn
                    )
                ),
                tags=tags,
                # The function reads the stream with the role's policy: granted before it is fed.
                opts=self.child_options(depends_on=[access.policy]),
            )
            for role in tables.streamed
        }
        self.register_outputs(
            {
                "consumer_function": self.function.name,
                "dead_letter_queue_arn": self.dead_letter_queue.arn,
                "effects_queue_url": self.effects_queue.url,
                "effects_dead_letter_queue_arn": self.effects_dead_letter_queue.arn,
            }
        )


class TenantStack(pulumi.ComponentResource):
    """One tenant's infrastructure: its tables, its access role, its stream consumers.

    Outputs: tables and streams by role, the role ARN, the consumer function and its queues."""

    def __init__(self, name: str, args: TenantStackArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(COMPONENT_TYPE, name, None, opts)
        replicated = tier_policy(args.tier).global_tables
        if replicated and not args.replica_region:
            raise ValueError(f"tier {args.tier} replicates its tables: a replica region is required")
        self.tenant_args = args
        self.child_prefix = name
        self.consumer_names = ConsumerNames.of(args)
        self.replica_region = args.replica_region if replicated else None
        """Where the tables replicate to: set only for a tier with global tables."""
        self.storage = TenantTables(self)
        self.access = TenantAccessRole(self, self.storage)
        self.consumers = TenantStreamConsumers(self, self.storage, self.access)
        self.register_outputs(
            {
                "tables": self.storage.table_names,
                "streams": self.storage.stream_arns,
                "role_arn": self.access.role.arn,
                "consumer_function": self.consumers.function.name,
                "dead_letter_queue_arn": self.consumers.dead_letter_queue.arn,
                "effects_queue_url": self.consumers.effects_queue.url,
                "effects_dead_letter_queue_arn": self.consumers.effects_dead_letter_queue.arn,
            }
        )
