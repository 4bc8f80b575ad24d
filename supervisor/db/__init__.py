"""The services table: one row per service process, written by its heartbeats.

`settings` reads what the table needs from `[options]` without importing SQLAlchemy, so the
command line can describe the table cheaply; `services` (and SQLAlchemy with it) is imported only
by service processes and by the `service` commands.
"""
