import sys

from supervisor.shared.exits import EXIT_INTERRUPTED

try:
    from supervisor.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while the command is still being imported
    print("supervisor: interrupted", file=sys.stderr)
    raise SystemExit(EXIT_INTERRUPTED) from None

raise SystemExit(main())
