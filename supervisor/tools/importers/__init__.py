"""`supervisor import`: another tool's stack description translated into a services.toml."""
