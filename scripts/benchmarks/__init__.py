"""The benchmarks behind `scripts/bench`: the peer comparison (`compare`, the default) and the
benchmarks named by a first word: `openstack`, `heartbeat` and `spawn`."""
