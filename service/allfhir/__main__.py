"""`python -m allfhir` runs the command line, as the `allfhir` script does."""

import sys

from .cli import main

sys.exit(main())
