"""A real `supervisor run` driven from outside, as `chaos` and the pytest plugin drive it: start
a copy of a stack, act on it through the control socket, wait on its event log with deadlines.

`running` is the process and its event log, `stack` the copy of a services file and what is
done to it, `ports` the refusal of a copy that would bind the running original's ports.
"""
