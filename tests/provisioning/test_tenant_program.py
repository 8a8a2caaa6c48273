"""The tenant program under Pulumi's mocks: what it declares for each tier, and what its role can reach."""

import json

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

from tests.table_roles import HISTORY_FEEDING_ROLES, TABLE_ROLES

ACCOUNT = "123456789012"
REGION = "eu-central-1"
REPLICA_REGION = "eu-west-1"


class TenantMocks(pulumi.runtime.Mocks):
    """Echoes inputs as state and gives each resource the ARN AWS would, recording what was declared."""

    def __init__(self) -> None:
        self.declared: dict[str, tuple[str, dict]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        name = args.inputs.get("name", args.name)
        state = dict(args.inputs)
        if args.typ == "aws:dynamodb/table:Table":
            state["arn"] = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"
            if args.inputs.get("streamEnabled"):
                state["streamArn"] = f"{state['arn']}/stream/2026-01-01T00:00:00.000"
        elif args.typ == "aws:iam/role:Role":
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{name}"
        elif args.typ == "aws:sqs/queue:Queue":
            state["arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
            state["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
        elif args.typ == "aws:lambda/function:Function":
            state["arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
        self.declared[args.name] = (args.typ, dict(args.inputs))
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, None]:
        return {}, None

    def of(self, stack: str, typ: str) -> dict[str, dict]:
        return {
            name: inputs
            for name, (t, inputs) in self.declared.items()
            if t == typ and name.startswith(f"{stack}-")
        }


class RecordingMonitor(MockMonitor):
    """The mock engine's side of each registration: the URN given and the aliases asked for."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registered: dict[str, tuple[str, str, list]] = {}

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method's name
        response = super().RegisterResource(request)
        if request.custom:
            self.registered[response.urn] = (request.type, request.name, [a.spec for a in request.aliases])
        return response


MOCKS = TenantMocks()
MONITOR = RecordingMonitor(MOCKS)
pulumi.runtime.set_mocks(MOCKS, project="resale-tenant", stack="test", preview=False, monitor=MONITOR)
pytestmark = pytest.mark.pulumi_mocks

from moto.iam.access_control import IAMPolicy  # noqa: E402

from provisioning.program.tenant_stack import TenantStack, TenantStackArgs, assume_role_policy  # noqa: E402
from provisioning.table_specs import tenant_table_specs  # noqa: E402


def tenant_stack(slug: str, tier: str) -> TenantStack:
    return TenantStack(
        f"tenant-{slug}",
        TenantStackArgs(
            slug=slug,
            tier=tier,
            tables=tenant_table_specs(slug, tier, prefix="resale"),
            resource_prefix="resale",
            consumer_handler="resale.streams.lambda_handler.handle",
            consumer_code=pulumi.AssetArchive({"handler.py": pulumi.StringAsset("def handle(e, c): pass\n")}),
            replica_region=REPLICA_REGION if tier == "premium" else None,
        ),
    )


def settled(stack: TenantStack) -> pulumi.Output:
    """An output that resolves once every resource of the stack has been registered."""
    return pulumi.Output.all(
        [t.arn for t in stack.storage.tables.values()],
        [m.id for m in stack.consumers.mappings.values()],
        stack.access.policy.policy,
        stack.consumers.function.arn,
        stack.access.role.arn,
        stack.consumers.dead_letter_queue.arn,
    )


def tables_by_role(stack_name: str) -> dict[str, dict]:
    tables = MOCKS.of(stack_name, "aws:dynamodb/table:Table")
    return {inputs["tags"]["resale:table-role"]: inputs for inputs in tables.values()}


@pulumi.runtime.test
def test_a_standard_tenant_declares_its_tables_with_keys_indexes_streams_ttl_recovery_protection_and_tags():
    stack = tenant_stack("std-one", "standard")

    def check(_):
        tables = tables_by_role("tenant-std-one")
        assert set(tables) == TABLE_ROLES
        assert {t["name"] for t in tables.values()} == {f"resale-std-one-{role}" for role in TABLE_ROLES}
        listings = tables["listings"]
        assert (listings["hashKey"], listings.get("rangeKey")) == ("id", None)
        assert {
            g["name"]: [(k["attributeName"], k["keyType"]) for k in g["keySchemas"]]
            for g in listings["globalSecondaryIndexes"]
        } == {
            "by_seller": [("seller_id", "HASH"), ("created_at", "RANGE")],
            "by_status": [("status", "HASH"), ("created_at", "RANGE")],
            "by_category": [("category", "HASH"), ("created_at", "RANGE")],
        }
        assert [g["name"] for g in tables["orders"]["globalSecondaryIndexes"]] == ["by_buyer", "by_status"]
        assert (tables["clicks"]["hashKey"], tables["clicks"]["rangeKey"]) == ("code", "clicked_at")
        for role, table in tables.items():
            streamed = role in HISTORY_FEEDING_ROLES
            assert table["streamEnabled"] is streamed, role
            assert table.get("streamViewType") == ("NEW_AND_OLD_IMAGES" if streamed else None), role
            assert table["pointInTimeRecovery"] == {"enabled": True}
            assert table["deletionProtectionEnabled"] is True
            assert table["billingMode"] == "PAY_PER_REQUEST"
            assert table["tags"]["resale:tenant"] == "std-one" and table["tags"]["resale:tier"] == "standard"
            assert "replicas" not in table
        assert {role: t["ttl"] for role, t in tables.items() if "ttl" in t} == {
            "clicks": {"attributeName": "expires_at", "enabled": True},
            "idempotency": {"attributeName": "expires_at", "enabled": True},
        }

    return settled(stack).apply(check)


@pulumi.runtime.test
def test_a_premium_tenant_replicates_every_table_to_the_second_region_as_global_tables():
    stack = tenant_stack("prem-one", "premium")

    def check(_):
        tables = tables_by_role("tenant-prem-one")
        assert set(tables) == TABLE_ROLES
        for table in tables.values():
            assert [r["regionName"] for r in table["replicas"]] == [REPLICA_REGION]
            assert table["replicas"][0]["pointInTimeRecovery"] is True
            # Global tables replicate through a NEW_AND_OLD_IMAGES stream, so every table has one.
            assert (table["streamEnabled"], table["streamViewType"]) == (True, "NEW_AND_OLD_IMAGES")
            assert table["tags"]["resale:tier"] == "premium"
        # ...but only the model's streams feed the consumers.
        assert len(MOCKS.of("tenant-prem-one", "aws:lambda/eventSourceMapping:EventSourceMapping")) == 4

    return settled(stack).apply(check)


def test_a_premium_tenant_without_a_replica_region_is_refused():
    with pytest.raises(ValueError, match="replica region"):
        TenantStack(
            "tenant-prem-none",
            TenantStackArgs(
                slug="prem-none",
                tier="premium",
                tables=tenant_table_specs("prem-none", "premium", prefix="resale"),
                resource_prefix="resale",
                consumer_handler="h.handle",
                consumer_code=pulumi.AssetArchive({}),
            ),
        )


@pulumi.runtime.test
def test_each_history_feeding_stream_has_a_mapping_reporting_partial_failures_with_a_dead_letter_queue():
    stack = tenant_stack("esm-one", "standard")

    def check(values):
        table_arns, _, _, function_arn, role_arn, queue_arn = values
        mappings = MOCKS.of("tenant-esm-one", "aws:lambda/eventSourceMapping:EventSourceMapping")
        tables = tables_by_role("tenant-esm-one")
        expected_sources = {
            f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{tables[role]['name']}/stream/2026-01-01T00:00:00.000"
            for role in HISTORY_FEEDING_ROLES
        }
        assert {m["eventSourceArn"] for m in mappings.values()} == expected_sources
        for mapping in mappings.values():
            assert mapping["functionName"] == function_arn
            assert mapping["bisectBatchOnFunctionError"] is True
            assert mapping["functionResponseTypes"] == ["ReportBatchItemFailures"]
            assert mapping["destinationConfig"] == {"onFailure": {"destinationArn": queue_arn}}
            assert mapping["startingPosition"] == "TRIM_HORIZON"
            assert mapping["maximumRetryAttempts"] > 0
        (function,) = MOCKS.of("tenant-esm-one", "aws:lambda/function:Function").values()
        assert function["role"] == role_arn
        assert function["handler"] == "resale.streams.lambda_handler.handle"
        assert json.loads(function["environment"]["variables"]["RESALE_TABLES"]) == {
            role: t["name"] for role, t in tables.items()
        }
        assert function["environment"]["variables"]["RESALE_TENANT"] == "esm-one"
        assert function["environment"]["variables"]["RESALE_EFFECTS_QUEUE_URL"] == (
            f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/resale-esm-one-stream-effects"
        )

    return settled(stack).apply(check)


def own_resources(slug: str, region: str = REGION, replica_region: str | None = None) -> set[str]:
    regions = [region] + ([replica_region] if replica_region else [])
    tables = {
        f"arn:aws:dynamodb:{r}:{ACCOUNT}:table/resale-{slug}-{role}" for role in TABLE_ROLES for r in regions
    }
    return (
        tables
        | {f"{arn}/index/*" for arn in tables}
        | {
            f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/resale-{slug}-{role}/stream/*"
            for role in HISTORY_FEEDING_ROLES
        }
        | {f"arn:aws:sqs:{region}:{ACCOUNT}:resale-{slug}-streams-dlq"}
        | {f"arn:aws:sqs:{region}:{ACCOUNT}:resale-{slug}-stream-effects"}
        | {f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/resale-{slug}-streams:*"}
    )


def policy_resources(policy: str) -> set[str]:
    resources = set()
    for statement in json.loads(policy)["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "NotResource" not in statement and "NotAction" not in statement
        resources.update(
            [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        )
    return resources


@pulumi.runtime.test
def test_the_role_policy_names_only_the_tenants_own_tables_indexes_streams_queue_and_logs():
    # "shop" is a prefix of "shop-two": a wildcard on the name would let one reach the other.
    shop, shop_two = tenant_stack("shop", "standard"), tenant_stack("shop-two", "standard")

    def check(values):
        shop_policy, shop_two_policy = values
        assert policy_resources(shop_policy) == own_resources("shop")
        assert policy_resources(shop_two_policy) == own_resources("shop-two")
        for resource in policy_resources(shop_policy):
            assert "shop-two" not in resource
            assert resource != "*" and f":{ACCOUNT}:" in resource

    return pulumi.Output.all(settled(shop), settled(shop_two)).apply(
        lambda _: pulumi.Output.all(shop.access.policy.policy, shop_two.access.policy.policy).apply(check)
    )


def _decision(policy: str, action: str, resource: str) -> str:
    return IAMPolicy(policy).is_action_permitted(action, resource).name


@pulumi.runtime.test
def test_an_iam_policy_engine_lets_the_role_use_its_own_tables_and_streams_and_not_another_tenants():
    """The declared document evaluated by moto's IAM policy engine against concrete ARNs."""
    shop, shop_two = tenant_stack("eval", "standard"), tenant_stack("eval-two", "standard")

    def arns(slug: str) -> dict[str, str]:
        table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/resale-{slug}-listings"
        return {
            "table": table,
            "index": f"{table}/index/by_seller",
            "stream": f"{table}/stream/2026-12-02T10:00:00.000",
        }

    def check(values):
        policy = values[0]
        own, other = arns("eval"), arns("eval-two")
        for action, kind in [
            ("dynamodb:PutItem", "table"),
            ("dynamodb:UpdateItem", "table"),
            ("dynamodb:Query", "index"),
            ("dynamodb:GetRecords", "stream"),
        ]:
            assert _decision(policy, action, own[kind]) == "PERMITTED", (action, own[kind])
            assert _decision(policy, action, other[kind]) != "PERMITTED", (action, other[kind])
        assert _decision(policy, "dynamodb:DeleteTable", own["table"]) != "PERMITTED"

    return pulumi.Output.all(settled(shop), settled(shop_two)).apply(
        lambda _: pulumi.Output.all(shop.access.policy.policy).apply(check)
    )


@pulumi.runtime.test
def test_a_premium_role_reaches_its_own_replicas_and_nothing_else():
    stack = tenant_stack("prem-pol", "premium")

    def check(values):
        policy = values[2]
        assert policy_resources(policy) == own_resources("prem-pol", replica_region=REPLICA_REGION)

    return settled(stack).apply(check)


@pulumi.runtime.test
def test_the_role_is_assumable_by_lambda_only_unless_a_platform_principal_is_trusted():
    stack = tenant_stack("trust-one", "standard")

    def check(_):
        (role,) = MOCKS.of("tenant-trust-one", "aws:iam/role:Role").values()
        principals = [s["Principal"] for s in json.loads(role["assumeRolePolicy"])["Statement"]]
        assert principals == [{"Service": "lambda.amazonaws.com"}]
        assert role["name"] == "resale-trust-one-data"

    return settled(stack).apply(check)


def test_the_platform_may_assume_the_role_only_with_the_tenant_as_session_tag():
    platform = f"arn:aws:iam::{ACCOUNT}:role/resale-platform"
    statements = assume_role_policy("shop", [platform])["Statement"]
    assert statements[1] == {
        "Effect": "Allow",
        "Principal": {"AWS": [platform]},
        "Action": ["sts:AssumeRole", "sts:TagSession"],
        "Condition": {"StringEquals": {"aws:RequestTag/tenant": "shop"}},
    }


STACK_URN = "urn:pulumi:test::resale-tenant::resale:tenant:TenantStack"


def alias_urn(spec, typ: str, name: str) -> str:
    """The URN an alias spec names, as the engine resolves it (parent's type chain, then the type).

    The mock monitor puts the root stack's type in its URNs; the engine leaves it out."""
    parent_types = spec.parentUrn.split("::")[2].removeprefix("pulumi:pulumi:Stack$")
    return f"urn:pulumi:test::resale-tenant::{parent_types}${spec.type or typ}::{spec.name or name}"


@pulumi.runtime.test
def test_every_resource_of_an_existing_stack_keeps_its_urn_through_an_alias_so_none_is_replaced():
    stack = tenant_stack("moved", "premium")
    n = "tenant-moved"
    declared_under_the_stack = (
        {("aws:dynamodb/table:Table", f"{n}-{role}") for role in TABLE_ROLES}
        | {
            ("aws:lambda/eventSourceMapping:EventSourceMapping", f"{n}-{role}-stream")
            for role in HISTORY_FEEDING_ROLES
        }
        | {
            ("aws:iam/role:Role", f"{n}-role"),
            ("aws:iam/rolePolicy:RolePolicy", f"{n}-policy"),
            ("aws:sqs/queue:Queue", f"{n}-streams-dlq"),
            ("aws:sqs/queue:Queue", f"{n}-stream-effects"),
            ("aws:cloudwatch/logGroup:LogGroup", f"{n}-consumer-logs"),
            ("aws:lambda/function:Function", f"{n}-consumer"),
        }
    )

    declared_since = {("aws:sqs/queue:Queue", f"{n}-stream-effects-dlq")}

    def check(_):
        registered = {
            (typ, name): (urn, {alias_urn(spec, typ, name) for spec in specs})
            for urn, (typ, name, specs) in MONITOR.registered.items()
            if name.startswith(f"{n}-")
        }
        assert set(registered) == declared_under_the_stack | declared_since
        for resource in declared_since:
            assert not registered.pop(resource)[1], f"{resource} never lived under the stack"
        for (typ, name), (urn, aliases) in registered.items():
            former = f"{STACK_URN}${typ}::{name}"
            assert urn != former, urn
            assert former in aliases, (urn, aliases)

    return settled(stack).apply(check)


@pulumi.runtime.test
def test_the_stream_effects_queue_sends_what_its_consumer_cannot_apply_to_a_dead_letter_queue():
    stack = tenant_stack("fx-one", "standard")

    def check(values):
        effects_dlq_arn = values[-1]
        declared = MOCKS.of("tenant-fx-one", "aws:sqs/queue:Queue").values()
        queues = {inputs["name"]: inputs for inputs in declared}
        effects = queues["resale-fx-one-stream-effects"]
        redrive = json.loads(effects["redrivePolicy"])
        assert redrive["deadLetterTargetArn"] == effects_dlq_arn
        assert effects_dlq_arn.endswith(":resale-fx-one-stream-effects-dlq")
        assert 1 < redrive["maxReceiveCount"] <= 20
        dead_letters = queues["resale-fx-one-stream-effects-dlq"]
        assert dead_letters["messageRetentionSeconds"] > effects["messageRetentionSeconds"]
        assert dead_letters["sqsManagedSseEnabled"] is True

    return pulumi.Output.all(settled(stack), stack.consumers.effects_dead_letter_queue.arn).apply(check)
