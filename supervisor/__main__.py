import sys

try:
    from supervisor.cli.main import main
except KeyboardInterrupt:  # Ctrl-C while the command is still being imported
    print("supervisor: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
