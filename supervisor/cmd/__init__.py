"""Entry points of the stack's binaries (cinder-scheduler, cinder-volume, cinder-backup)."""
