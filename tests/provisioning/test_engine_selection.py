"""Which engine runs, and what the Automation API engine would hand the Pulumi CLI.

The Automation API engine cannot run here (no Pulumi CLI on these machines): these tests check
its selection and the workspace and config it builds, not a deployment.
"""

import os
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from provisioning.engines.automation import (
    PROGRAM_DIR,
    StackLocked,
    automation_stack_config,
    lock_conflicts_retried,
    workspace_options,
)
from provisioning.engines.evaluation import ProgramConfig
from provisioning.engines.selection import engine_name, provisioning_engine
from provisioning.errors import TRANSIENT_ERRORS
from provisioning.tasks import run_provisioning_step


@pytest.fixture
def pulumi_on_path(tmp_path, monkeypatch):
    cli = tmp_path / "pulumi"
    cli.write_text("#!/bin/sh\nexit 0\n")
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")


def test_auto_picks_the_local_engine_where_no_pulumi_cli_is_installed(settings, monkeypatch):
    settings.PROVISIONING_ENGINE = "auto"
    monkeypatch.setenv("PATH", "/nonexistent")
    assert engine_name() == "local"
    assert provisioning_engine().name == "local"


def test_auto_picks_the_automation_engine_where_the_pulumi_cli_is_on_path(settings, pulumi_on_path):
    settings.PROVISIONING_ENGINE = "auto"
    assert engine_name() == "automation"
    assert provisioning_engine().name == "automation"


def test_the_setting_forces_an_engine_either_way(settings, pulumi_on_path):
    settings.PROVISIONING_ENGINE = "local"
    assert engine_name() == "local"
    settings.PROVISIONING_ENGINE = "automation"
    assert engine_name() == "automation"


def test_an_unknown_engine_setting_is_a_configuration_error(settings):
    settings.PROVISIONING_ENGINE = "terraform"
    with pytest.raises(ImproperlyConfigured):
        engine_name()


def program_config(slug: str = "auto-one", tier: str = "premium") -> ProgramConfig:
    return ProgramConfig(
        slug=slug, tier=tier, region="eu-central-1", consumer_handler="h.handle", replica_region="eu-west-1"
    )


def test_each_tenant_stack_gets_a_workspace_directory_of_its_own(settings, tmp_path):
    settings.PULUMI_WORKSPACES_DIR = tmp_path / "workspaces"
    settings.PULUMI_BACKEND_URL = "s3://state-bucket/pulumi"
    settings.PULUMI_CONFIG_PASSPHRASE = "phrase"
    one, two = workspace_options(program_config("one-t")), workspace_options(program_config("two-t"))
    assert Path(one.work_dir) == tmp_path / "workspaces" / "one-t"
    assert one.work_dir != two.work_dir
    project = one.project_settings
    assert project.name == "resale-tenant"
    assert (Path(one.work_dir) / project.main).resolve() == PROGRAM_DIR
    assert project.backend.url == "s3://state-bucket/pulumi"
    assert one.env_vars["PULUMI_BACKEND_URL"] == "s3://state-bucket/pulumi"
    assert one.env_vars["PULUMI_CONFIG_PASSPHRASE"] == "phrase"


def test_the_stack_config_carries_the_tenant_and_points_dynamodb_at_the_local_endpoint(settings):
    settings.DYNAMODB_ENDPOINT = "http://127.0.0.1:8100"
    config = automation_stack_config(program_config())
    values = {key: value.value for key, value in config.items()}
    assert values["resale-tenant:slug"] == "auto-one"
    assert values["resale-tenant:tier"] == "premium"
    assert values["resale-tenant:replicaRegion"] == "eu-west-1"
    assert values["resale-tenant:consumerHandler"] == "h.handle"
    assert values["aws:region"] == "eu-central-1"
    assert values["aws:endpoints[0].dynamodb"] == "http://127.0.0.1:8100"
    assert values["aws:skipCredentialsValidation"] == "true"
    assert config["aws:secretKey"].secret and config["aws:accessKey"].secret


def test_on_aws_the_stack_config_names_no_endpoint_and_no_keys(settings):
    settings.DYNAMODB_ENDPOINT = None
    config = automation_stack_config(program_config(tier="standard"))
    assert not any(key.startswith("aws:endpoints") for key in config)
    assert "aws:accessKey" not in config and "aws:secretKey" not in config
    assert "resale-tenant:replicaRegion" in config  # given here; the standard tier ignores it


@pytest.mark.parametrize(
    "error",
    [
        auto.ConcurrentUpdateError(
            CommandResult("", "error: [409] Conflict: Another update is in progress", 255)
        ),
        auto.CommandError(CommandResult("", "error: the stack is currently locked by 1 lock(s)", 255)),
    ],
)
def test_a_stack_lock_conflict_becomes_a_retry_not_a_failed_tenant(error):
    with pytest.raises(StackLocked), lock_conflicts_retried():
        raise error
    assert StackLocked in TRANSIENT_ERRORS
    assert StackLocked in run_provisioning_step.autoretry_for


def test_other_pulumi_errors_are_not_retried():
    with pytest.raises(auto.CommandError), lock_conflicts_retried():
        raise auto.CommandError(CommandResult("", "error: aws:dynamodb:Table: ValidationException", 255))
