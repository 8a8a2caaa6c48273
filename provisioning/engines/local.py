"""The local engine: the tenant program evaluated under Pulumi's mocks, its tables applied with boto3.

Tables go to the configured DynamoDB endpoint (DynamoDB Local here), in the tenant's own namespace
(its credentials, from ``resale.binding``), through the idempotent applier; what has no local
counterpart (IAM, Lambda, SQS, event source mappings, log groups, and a table's tags,
point-in-time recovery and replicas) is recorded as declared, never as created. The stream
consumers that the program declares run locally as the platform's own consumer process, which
finds the tenant's streams in its recorded outputs.
"""

from django.conf import settings

from provisioning.dynamo_apply import apply_table, delete_table, plan_table, wait_until_gone
from provisioning.engines.base import Deployment
from provisioning.engines.declared import (
    declared_only_records,
    declared_output,
    table_specs_from_declared,
)
from provisioning.engines.evaluation import DeclaredResource, ProgramConfig, evaluate_program
from provisioning.outputs import table_outputs
from provisioning.table_specs import TableSpec
from resale.binding import TenantRef, tenant_dynamodb_client

DECLARED_OUTPUTS = ("role_arn", "consumer_function", "dead_letter_queue_arn")


class LocalEngine:
    name = "local"

    def _declared(self, config: ProgramConfig) -> tuple[list[TableSpec], list[dict], list[DeclaredResource]]:
        declared = evaluate_program(config, timeout=settings.PROVISIONING_EVALUATION_TIMEOUT)
        return table_specs_from_declared(declared), declared_only_records(declared), declared

    def preview(self, config: ProgramConfig) -> list[dict]:
        specs, declared_only, _ = self._declared(config)
        client = tenant_dynamodb_client(TenantRef(slug=config.slug))
        return [plan_table(client, spec).as_dict() for spec in specs] + declared_only

    def deploy(self, config: ProgramConfig) -> Deployment:
        specs, declared_only, declared = self._declared(config)
        client = tenant_dynamodb_client(TenantRef(slug=config.slug))
        plan = [plan_table(client, spec).as_dict() for spec in specs] + declared_only
        result = [apply_table(client, spec).as_dict() for spec in specs] + declared_only
        outputs = {
            **table_outputs(client, specs),
            **{key: declared_output(declared, key) for key in DECLARED_OUTPUTS},
            "engine": self.name,
            "declared_only": list(DECLARED_OUTPUTS),
        }
        return Deployment(plan=plan, result=result, outputs=outputs)

    def destroy(self, config: ProgramConfig, *, table_names: list[str]) -> list[dict]:
        client = tenant_dynamodb_client(TenantRef(slug=config.slug))
        result = []
        for name in table_names:
            result.append(delete_table(client, name).as_dict())
            wait_until_gone(client, name)
        return result
