"""The plane boundaries, enforced: import contracts, and one module that reaches tenants' tables."""

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE_ROOTS = [ROOT / "control_plane", ROOT / "provisioning", ROOT / "tenants", ROOT / "platform"]
BINDING_MODULE = ROOT / "platform" / "resale" / "binding.py"
CLIENT_FACTORIES = {"client", "create_client", "resource"}


def _python_files():
    for root in CODE_ROOTS:
        for path in root.rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def _dynamodb_access(path: Path, relative_to: Path = ROOT) -> list[str]:
    """Places in the file that build a DynamoDB client or a PynamoDB connection."""
    where = path.relative_to(relative_to)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pynamodb.connection"):
            connections = [alias.name for alias in node.names if alias.name.endswith("Connection")]
            if connections:
                found.append(f"{where}:{node.lineno} imports {', '.join(connections)} from {node.module}")
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "attr", getattr(node.func, "id", ""))
        first = node.args[0] if node.args else None
        if (
            name in CLIENT_FACTORIES
            and isinstance(first, ast.Constant)
            and str(first.value).startswith("dynamodb")
        ):
            found.append(f"{where}:{node.lineno} builds a {first.value} client")
    return found


def _scanned_alone(paths: list[Path], relative_to: Path = ROOT) -> list[str]:
    """``_dynamodb_access`` of each path, run in a process of its own.

    CPython 3.11's AST constructor keeps its recursion depth per interpreter, not per thread: a
    parse while another thread of the test process parses (a live server's, a Celery worker's) can
    fail with "AST constructor recursion depth mismatch" (python/cpython#106905), and once did here.
    """
    script = (
        "import json, sys; from pathlib import Path; from tests.test_planes import _dynamodb_access as scan; "
        "root = Path(sys.argv[1]); print(json.dumps([p for f in sys.argv[2:] for p in scan(Path(f), root)]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(relative_to), *map(str, paths)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_only_the_binding_module_builds_dynamodb_clients_or_pynamodb_connections():
    assert _scanned_alone([path for path in _python_files() if path != BINDING_MODULE]) == []


def test_the_scan_finds_a_client_built_outside_the_binding_module(tmp_path):
    rogue = tmp_path / "rogue.py"
    rogue.write_text(
        "import boto3\nfrom pynamodb.connection import Connection\n"
        "client = boto3.client('dynamodb', region_name='us-east-1')\n"
        "streams = boto3.session.Session().client('dynamodbstreams')\n"
    )
    assert len(_scanned_alone([rogue], relative_to=tmp_path)) == 3
    assert _scanned_alone([BINDING_MODULE])  # the binding module itself is where they are built


def test_the_import_contracts_hold():
    """Layers: control_plane above provisioning above the data plane (resale) above tenants, httpkit."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)])}
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
