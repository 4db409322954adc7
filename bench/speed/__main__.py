import sys

from bench.speed.cli import main

sys.exit(main())
