"""Evaluates the tenant program under Pulumi's mock runtime and hands over what it declares.

The local engine has no Pulumi CLI: it runs ``provisioning/program/__main__.py`` itself with the
stack's config set, and the mock monitor receives every resource the program registers, with
its inputs. Pulumi's runtime settings are process-global and two evaluations at once in one
process hang, so every evaluation runs in a fresh child process (``evaluate_program``); the
child prints the declared resources as JSON on stdout.
"""

import json
import runpy
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROGRAM_MAIN = Path(__file__).resolve().parent.parent / "program" / "__main__.py"
PROJECT = "resale-tenant"
TABLE_TYPE = "aws:dynamodb/table:Table"
EVENT_SOURCE_MAPPING_TYPE = "aws:lambda/eventSourceMapping:EventSourceMapping"


class EvaluationFailed(Exception):
    """The tenant program raised, or its evaluation process died or timed out."""


@dataclass(frozen=True)
class ProgramConfig:
    """The stack config of one tenant: what ``pulumi config`` would hold for ``tenant-<slug>``."""

    slug: str
    tier: str
    region: str
    consumer_handler: str
    table_prefix: str = "resale"
    replica_region: str | None = None
    deletion_protection: bool = True
    trusted_principals: tuple[str, ...] = ()
    account_id: str = "000000000000"
    """Only the mocks use it, to give declared resources ARNs of the cell's account."""

    @property
    def stack_name(self) -> str:
        return f"tenant-{self.slug}"

    def stack_config(self) -> dict[str, str]:
        """Fully qualified config keys and their values, as strings (Pulumi's own format)."""
        config = {
            f"{PROJECT}:slug": self.slug,
            f"{PROJECT}:tier": self.tier,
            f"{PROJECT}:tablePrefix": self.table_prefix,
            f"{PROJECT}:consumerHandler": self.consumer_handler,
            f"{PROJECT}:deletionProtection": json.dumps(self.deletion_protection),
            "aws:region": self.region,
        }
        if self.replica_region:
            config[f"{PROJECT}:replicaRegion"] = self.replica_region
        if self.trusted_principals:
            config[f"{PROJECT}:trustedPrincipals"] = json.dumps(list(self.trusted_principals))
        return config


@dataclass
class DeclaredResource:
    type: str
    name: str
    inputs: dict
    outputs: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _plain(value):
    """JSON-safe copy of deserialized inputs (archives and assets become their path or text)."""
    import pulumi

    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, pulumi.FileArchive | pulumi.FileAsset):
        return {"path": value.path}
    if isinstance(value, pulumi.Archive | pulumi.Asset):
        return {"kind": type(value).__name__}
    return value


def _computed_outputs(typ: str, inputs: dict, region: str, account: str) -> dict:
    """What AWS would compute for a declared resource: ARNs from the names the program chose."""
    name = inputs.get("name", "")
    if typ == TABLE_TYPE:
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return {"arn": arn, "streamArn": f"{arn}/stream/declared" if inputs.get("streamEnabled") else None}
    if typ == "aws:iam/role:Role":
        return {"arn": f"arn:aws:iam::{account}:role/{name}"}
    if typ == "aws:sqs/queue:Queue":
        return {
            "arn": f"arn:aws:sqs:{region}:{account}:{name}",
            "url": f"https://sqs.{region}.amazonaws.com/{account}/{name}",
        }
    if typ == "aws:lambda/function:Function":
        return {"arn": f"arn:aws:lambda:{region}:{account}:function:{name}"}
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        return {"arn": f"arn:aws:logs:{region}:{account}:log-group:{name}"}
    return {}


def evaluate_in_this_process(config: ProgramConfig) -> list[DeclaredResource]:
    """Runs the program under mocks here. Call it once per process: Pulumi's state is global."""
    import pulumi
    from pulumi.runtime import config as pulumi_config
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    declared: list[DeclaredResource] = []

    class CapturingMocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
            if not args.custom:  # a component: its children are what gets declared
                return f"{args.name}-id", dict(args.inputs)
            inputs = _plain(args.inputs)
            outputs = _computed_outputs(args.typ, inputs, config.region, config.account_id)
            declared.append(DeclaredResource(args.typ, args.name, inputs, outputs))
            return f"{args.name}-id", {**args.inputs, **{k: v for k, v in outputs.items() if v is not None}}

        def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
            return {}, None

    pulumi_config.set_all_config(config.stack_config())
    pulumi.runtime.set_mocks(CapturingMocks(), project=PROJECT, stack=config.stack_name, preview=False)
    _sync_await(run_pulumi_func(lambda: runpy.run_path(str(PROGRAM_MAIN), run_name="__main__")))
    return declared


def evaluate_program(config: ProgramConfig, *, timeout: float = 60) -> list[DeclaredResource]:
    """Evaluates the program in a fresh child process and returns what it declared."""
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "provisioning.engines.evaluation"],
            input=json.dumps(asdict(config)),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=PROGRAM_MAIN.parents[2],
        )
    except subprocess.TimeoutExpired as exc:
        raise EvaluationFailed(f"the tenant program did not finish in {timeout}s") from exc
    if completed.returncode != 0:
        raise EvaluationFailed(f"the tenant program failed: {completed.stderr.strip()[-2000:]}")
    return [DeclaredResource(**item) for item in json.loads(completed.stdout)]


def main() -> None:
    config = json.load(sys.stdin)
    config["trusted_principals"] = tuple(config.get("trusted_principals", ()))
    result_stream = sys.stdout
    sys.stdout = sys.stderr  # only the result goes to stdout
    declared = evaluate_in_this_process(ProgramConfig(**config))
    json.dump([resource.as_dict() for resource in declared], result_stream)
    result_stream.flush()


if __name__ == "__main__":
    main()
