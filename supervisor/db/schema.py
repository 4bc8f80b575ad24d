"""The `services` table: Cinder's columns, one row per process rather than per (host, binary)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

# Cinder's object_current_version is the version of its Service object; here, of this row format.
SERVICE_OBJECT_VERSION = "1.0"

metadata = MetaData()

services = Table(
    "services",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("host", String(255), nullable=False),
    Column("binary", String(255), nullable=False),
    # Cinder keys a row by (host, binary) alone, so backup workers share a row and a dead one
    # hides behind its live siblings; the process name ("cinder-backup#2") tells them apart.
    Column("process", String(255), nullable=False),
    Column("topic", String(255)),
    Column("availability_zone", String(255)),
    Column("report_count", Integer, nullable=False, default=0),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("disabled_reason", String(255)),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime),  # the last heartbeat
    Column("modified_at", DateTime),  # the last enable or disable, which is not a heartbeat
    Column("rpc_current_version", String(36)),
    Column("object_current_version", String(36)),
    Column("cluster_name", String(255)),
    UniqueConstraint("host", "binary", "process", name="services_host_binary_process"),
    # Never hand a removed row's id to another process (SQLite would reuse the highest).
    sqlite_autoincrement=True,
)
