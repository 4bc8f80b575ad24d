"""The control socket: its protocol, the daemon's handlers, the client."""
