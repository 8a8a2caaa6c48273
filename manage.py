#!/usr/bin/env python
import os
import sys
from pathlib import Path


def main() -> None:
    # platform/ is a folder of import roots, never a package: see ARCHITECTURE.md.
    sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "control_plane.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
