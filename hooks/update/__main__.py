"""`python hooks/update before|after|answer|check ...`: Copier runs the folder (copier.yml)."""

import sys
from pathlib import Path

# Run as a folder, sys.path[0] is this folder: hooks/ instead makes this package
# `update` and the model-level modules of hooks/ importable.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from update.cli import main  # noqa: E402

sys.exit(main())
