"""The stack's own managers, named by the default `<subtopic>_manager` options."""

# A spacing shorter than any sensible `periodic_interval`: the task runs on every tick of the
# service's timer, so `periodic_interval` alone says how often (in Cinder both default to 60 s).
EVERY_TICK = 0.001
