"""A process supervisor for a Cinder-like multi-service stack on one host."""
