"""The services registry is scripts/stack/registry.py: this module keeps
`import services` working (scripts/lint.py, lock.py, update.py, dev.py and your own scripts)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stack.registry import *  # noqa: E402,F403
