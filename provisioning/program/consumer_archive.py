"""The code archive of the tenant's stream consumer Lambda: the handler's packages and every
distribution they import, nothing else.

Lambda's Python runtime ships an old boto3 and none of PynamoDB, ``cryptography`` or the chain's
hash and signature libraries (``rfc8785``, ``joserfc``), so the
archive carries its own: the ``resale`` package from ``platform/`` and the installed files of
``CONSUMER_DISTRIBUTIONS`` with their requirements, resolved from the environment the program
runs in (the project's virtualenv, whose interpreter and platform are the function's:
CPython 3.11 on x86-64 Linux). Django, the control plane and PostgreSQL's driver are not in
it: the handler must not need them (a test unpacks the archive and runs the handler with
nothing else importable).

Declaration only: Pulumi reads the files when it uploads the archive.
"""

import sys
from importlib.metadata import Distribution, distribution
from pathlib import Path, PurePosixPath

import pulumi
from packaging.requirements import Requirement

CONSUMER_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
CONSUMER_PACKAGES = ("resale",)
CONSUMER_DISTRIBUTIONS = ("boto3", "pynamodb", "cryptography", "rfc8785", "joserfc")


def _requirements(dist: Distribution) -> list[str]:
    names = []
    for line in dist.requires or []:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.append(requirement.name)
    return names


def consumer_distributions(roots: tuple[str, ...] = CONSUMER_DISTRIBUTIONS) -> list[Distribution]:
    """The distributions the consumer imports and everything they require, each once."""
    seen: dict[str, Distribution] = {}
    pending = list(roots)
    while pending:
        dist = distribution(pending.pop())
        name = dist.metadata["Name"].lower().replace("_", "-")
        if name in seen:
            continue
        seen[name] = dist
        pending.extend(_requirements(dist))
    return [seen[name] for name in sorted(seen)]


def _top_level_entries(dist: Distribution) -> dict[str, Path]:
    """The top-level modules and packages a distribution installed, by archive name."""
    entries = {}
    for file in dist.files or []:
        parts = PurePosixPath(str(file)).parts
        top = parts[0]
        if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__"):
            continue
        if len(parts) == 1 and not top.endswith((".py", ".so")):
            continue
        entries[top] = Path(dist.locate_file(top))
    return entries


def consumer_archive(platform_dir: Path) -> pulumi.AssetArchive:
    """The archive the program declares as the consumer's code."""
    assets: dict[str, pulumi.Asset | pulumi.Archive] = {
        package: pulumi.FileArchive(str(platform_dir / package)) for package in CONSUMER_PACKAGES
    }
    for dist in consumer_distributions():
        for name, path in _top_level_entries(dist).items():
            assets[name] = pulumi.FileArchive(str(path)) if path.is_dir() else pulumi.FileAsset(str(path))
    return pulumi.AssetArchive(dict(sorted(assets.items())))
