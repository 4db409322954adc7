import sys

from derivations.derive import main

sys.exit(main())
