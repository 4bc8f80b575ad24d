"""Policy-testing tools: the simulator, chaos, the timeline report. `run` needs none of them."""
