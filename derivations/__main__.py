import sys

from derivations.codegen import main

sys.exit(main())
