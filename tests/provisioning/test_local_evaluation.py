"""The local engine's evaluation: the real program run under mocks in a child process."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from provisioning.engines.declared import declared_only_records, declared_output, table_specs_from_declared
from provisioning.engines.evaluation import EvaluationFailed, ProgramConfig, evaluate_program
from provisioning.table_specs import tenant_table_specs
from tests.table_roles import HISTORY_FEEDING_ROLES, TABLE_ROLES


def config(slug: str, tier: str, **overrides) -> ProgramConfig:
    return ProgramConfig(
        slug=slug,
        tier=tier,
        region="us-east-1",
        consumer_handler="resale.streams.lambda_handler.handle",
        replica_region="us-west-2" if tier == "premium" else None,
        **overrides,
    )


@pytest.mark.parametrize("tier", ["standard", "premium"])
def test_the_tables_the_program_declares_are_exactly_the_specs_of_the_models(tier):
    declared = evaluate_program(config("eval-one", tier))
    from_program = sorted(table_specs_from_declared(declared), key=lambda s: s.role)
    from_models = sorted(tenant_table_specs("eval-one", tier, prefix="resale"), key=lambda s: s.role)
    assert from_program == from_models
    assert {s.role for s in from_program if s.feeds_history} == HISTORY_FEEDING_ROLES


def test_what_has_no_local_counterpart_is_recorded_as_declared_never_created():
    declared = evaluate_program(config("eval-two", "premium", account_id="210987654321"))
    records = declared_only_records(declared)
    assert {r["action"] for r in records} == {"declared"}
    types = {r["type"] for r in records}
    assert {
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:lambda/function:Function",
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "aws:sqs/queue:Queue",
        "aws:cloudwatch/logGroup:LogGroup",
    } <= types
    table_aspects = [r for r in records if r["type"].startswith("aws:dynamodb/table:Table")]
    assert len(table_aspects) == 6
    assert all(r["replica_regions"] == ["us-west-2"] and r["point_in_time_recovery"] for r in table_aspects)
    assert declared_output(declared, "role_arn") == "arn:aws:iam::210987654321:role/resale-eval-two-data"


def test_evaluations_at_once_each_run_in_their_own_process_and_all_finish():
    slugs = [f"eval-many-{n}" for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda slug: evaluate_program(config(slug, "standard"), timeout=60), slugs))
    for slug, declared in zip(slugs, results, strict=True):
        assert {s.name for s in table_specs_from_declared(declared)} == {
            f"resale-{slug}-{role}" for role in TABLE_ROLES
        }


def test_a_program_error_is_reported_with_its_reason():
    with pytest.raises(EvaluationFailed, match="replica region"):
        evaluate_program(
            ProgramConfig(slug="eval-bad", tier="premium", region="us-east-1", consumer_handler="h.handle")
        )
