"""Which engine runs the tenant program: the Automation API where the Pulumi CLI is, else local."""

import shutil

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from provisioning.engines.automation import AutomationEngine
from provisioning.engines.base import Engine
from provisioning.engines.local import LocalEngine

ENGINE_NAMES = ("local", "automation")


def engine_name() -> str:
    """``PROVISIONING_ENGINE`` if it names one; for ``auto``, automation when ``pulumi`` is on PATH."""
    configured = settings.PROVISIONING_ENGINE
    if configured in ENGINE_NAMES:
        return configured
    if configured != "auto":
        raise ImproperlyConfigured(
            f"PROVISIONING_ENGINE must be auto, local or automation, not {configured!r}"
        )
    return "automation" if shutil.which("pulumi") else "local"


def provisioning_engine() -> Engine:
    return AutomationEngine() if engine_name() == "automation" else LocalEngine()
