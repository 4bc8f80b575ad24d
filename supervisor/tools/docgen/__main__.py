import sys

from supervisor.tools.docgen.generate import main

sys.exit(main())
