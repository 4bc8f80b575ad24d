"""Real OpenStack Cinder under the supervisor.

Both sides of the process boundary live here, kept apart by module:
- `cinderconf` (parent): reads the cinder.conf files that services.toml names, importing
  nothing of Cinder, so `check` shows what each process will run;
- `child` and `serve` (child): one Cinder service per process, bootstrapped as Cinder's own
  `cinder/cmd/*.py` do, with the manager the supervisor resolved through the topic convention.
"""
