"""`python -m engine.cli` is `medtech`."""

import sys

from engine.cli import main

sys.exit(main())
