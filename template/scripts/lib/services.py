"""The services registry moved to scripts/stack/registry.py: this module keeps
`import services` (scripts/lint.py, lock.py, update.py, dev.py and your own
scripts) and `python3 scripts/lib/services.py COMMAND` working."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from stack.registry import *  # noqa: E402,F403
from stack.registry import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
