"""`supervisor export`: the stack written for another process manager (systemd, Kubernetes)."""
