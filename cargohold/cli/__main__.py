"""``python -m cargohold.cli``: the same as the ``cargohold`` command."""

import sys

from cargohold.cli.main import main

sys.exit(main())
