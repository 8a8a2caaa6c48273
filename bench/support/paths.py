"""Where the project lives, put on the import path so a bench reaches its packages and the tests' helpers.

``platform/`` is a folder of packages imported by their own names (ARCHITECTURE.md), so it goes
on the path itself; the root gives ``tests``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
LOGS = ROOT / ".local" / "bench"

for folder in (str(ROOT / "platform"), str(ROOT)):
    if folder not in sys.path:
        sys.path.insert(0, folder)
