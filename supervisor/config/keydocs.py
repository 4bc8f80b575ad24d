"""What each services.toml key means, for the generated reference (docs/reference/services-toml.md).

Only the meaning is written here.  The type, the default, the range and the choices of a key
come from the loader itself, recorded as it reads a specimen file (`readlog`), so they cannot
disagree with what `check` and `run` do.  `scripts/generate-docs` refuses a key the loader
allows that has no entry here, and an entry for a key the loader no longer allows; a test runs
it, so a new key cannot go undocumented.

In `key`, `NAME` stands for a name the file chooses (a service) and `PROBE` for `readiness`
or `liveness`.  `default`, `kind` and `allowed` are words for what the recorded read cannot
say: a default computed at load time (the hostname), a key read outside the typed reader.
"""

from __future__ import annotations

from typing import NamedTuple


class KeyDoc(NamedTuple):
    key: str
    doc: str
    default: str | None = None
    kind: str | None = None
    allowed: str | None = None
    # Read by the service processes, not by the loader: documented, never recorded.
    read_by_managers: bool = False


KEYS: tuple[KeyDoc, ...] = (
    # -- [supervisor] -------------------------------------------------------------------------
    KeyDoc(
        "supervisor",
        "The supervisor's own settings. Every key is optional.",
    ),
    KeyDoc(
        "supervisor.state_dir",
        "Where the supervisor keeps its state, relative to the file: `supervisor.lock`,"
        " `control.sock`, `events.jsonl`, `logs/`, `cinder.sqlite`, and the managers'"
        " `volumes/`, `backups/`, `capabilities/`. It must be a writable directory, or one"
        " that can be created (`check` creates nothing). See [The state"
        " directory](state-directory.md).",
    ),
    KeyDoc(
        "supervisor.name",
        "The stack's name where another process manager needs one: the systemd target"
        " (`<name>.target`) and the Kubernetes `app.kubernetes.io/part-of` label and ConfigMap"
        " prefix of `supervisor export`; `export --stack` overrides it.",
        default="the services file's directory's name",
    ),
    KeyDoc(
        "supervisor.topic_prefix",
        "The prefix the topic convention strips from a manager service's topic to find its"
        " subtopic (`cinder-volume` → `volume` → option `volume_manager`). See [The topic"
        " convention](../guides/processes.md#the-topic-convention).",
    ),
    KeyDoc(
        "supervisor.log_max_bytes",
        "A process's log file is rotated when it reaches this size, in bytes.",
    ),
    KeyDoc("supervisor.log_backups", "How many rotated log files are kept per process."),
    KeyDoc(
        "supervisor.log_timestamps",
        "Every log-file line starts with its RFC 3339 time stamp. `false` writes the lines as"
        " the process wrote them, with no per-line work; `logs --since` and `--until` then have"
        " no time to judge by. See [Logs](../guides/logs.md).",
    ),
    KeyDoc(
        "supervisor.env_file",
        "An env file, or a list of them, relative to the file (systemd's `EnvironmentFile`"
        " format): its variables are in every service's environment and can be used as"
        " `${NAME}` anywhere in the file. See"
        " [Interpolation](../guides/configuration.md#interpolation).",
        default="none",
        kind="string, or array of strings",
    ),
    # -- [options] ----------------------------------------------------------------------------
    KeyDoc(
        "options",
        "Free-form, like cinder.conf's `[DEFAULT]`: every key is handed to every manager"
        " process (as JSON, so a date, a time or nesting deeper than 32 levels is refused)."
        " The supervisor reads `host`, `cluster` and the `<subtopic>_manager` options; the"
        " manager processes read the rest.",
    ),
    KeyDoc(
        "options.host",
        "The host every manager service reports, unless the service sets its own `host`.",
        default="the machine's hostname (under `[openstack]`: cinder.conf's)",
    ),
    KeyDoc(
        "options.cluster",
        "The cluster of the manager services; a volume service's processes get"
        " `<cluster>@<backend>`.",
        default="none",
    ),
    KeyDoc(
        "options.<subtopic>_manager",
        "The manager class of every service whose subtopic is `<subtopic>`, e.g."
        ' `volume_manager = "supervisor.managers.volume.VolumeManager"`.',
        default="none (under `[openstack]`: cinder.conf's, else Cinder's default)",
    ),
    KeyDoc(
        "options.database_url",
        "The services table's database: any SQLAlchemy URL (`postgresql+psycopg://...`). See"
        " [The services table](../guides/health.md#the-services-table).",
        default="`sqlite:///<state_dir>/cinder.sqlite`",
        kind="string",
        read_by_managers=True,
    ),
    KeyDoc(
        "options.report_interval",
        "Seconds between two heartbeats of a manager process (0: none).",
        default="`10`",
        kind="number",
        read_by_managers=True,
    ),
    KeyDoc(
        "options.service_down_time",
        "A row whose last heartbeat is older than this many seconds is down; raised to"
        " 2.5 x `report_interval` (with a warning) when not larger.",
        default="`60`",
        kind="number",
        read_by_managers=True,
    ),
    KeyDoc(
        "options.periodic_interval",
        "Seconds between two runs of a manager's periodic tasks (0: none).",
        default="`60`",
        kind="number",
        read_by_managers=True,
    ),
    KeyDoc(
        "options.periodic_fuzzy_delay",
        "The first run of the periodic tasks waits a random 0 to N seconds (0: none).",
        default="`60`",
        kind="number",
        read_by_managers=True,
    ),
    KeyDoc(
        "options.storage_availability_zone",
        "The availability zone every row reports.",
        default='`"nova"`',
        kind="string",
        read_by_managers=True,
    ),
    KeyDoc(
        "options.backup_max_operations",
        "Backups running at once across all `cinder-backup` workers (0: no limit).",
        default="`15`",
        kind="integer",
        read_by_managers=True,
    ),
    KeyDoc(
        "options.debug",
        "Debug logging in the manager processes.",
        default="`false`",
        kind="boolean",
        read_by_managers=True,
    ),
    # -- [services.NAME] ----------------------------------------------------------------------
    KeyDoc(
        "services.NAME",
        "One service; `NAME` is its name. A table with `command` is a plain command; any other"
        " table is a manager service whose binary is `NAME`, found by the topic convention.",
    ),
    KeyDoc(
        "services.NAME.command",
        "The program and its arguments: an array, or a string split as a shell would."
        " Placeholders (`{port}`, `{name}`, ...) give each process its own values.",
    ),
    KeyDoc(
        "services.NAME.topic",
        "The topic; the subtopic, and so the manager option, follow from it.",
        default="the service's name",
    ),
    KeyDoc(
        "services.NAME.manager",
        "The manager class as a dotted path; overrides the option `<subtopic>_manager`.",
        default="`[options] <subtopic>_manager`",
    ),
    KeyDoc(
        "services.NAME.host",
        "The service's host.",
        default="`[options] host`",
    ),
    KeyDoc(
        "services.NAME.backends",
        "One process per non-empty entry, named `NAME@<backend>`, with host `<host>@<backend>`."
        " Not allowed with `workers`.",
        default="none (under `[openstack]`, a volume service: cinder.conf's `enabled_backends`)",
        allowed="1 to 1000 backend names",
    ),
    KeyDoc(
        "services.NAME.workers",
        "How many identical processes to run (`process_number` 1 to N for managers). Once set,"
        " to any number, 1 too, the processes are `NAME#1` to `NAME#N`;"
        " `supervisor scale` changes the count at runtime. See [Processes and their"
        " names](../guides/processes.md).",
        default="`1` (under `[openstack]`, a backup service: cinder.conf's `backup_workers`)",
    ),
    KeyDoc("services.NAME.env", "Extra environment variables, over those of the env files."),
    KeyDoc(
        "services.NAME.env_file",
        "An env file, or a list of them, relative to the file, for this service alone, over"
        " `[supervisor] env_file`. See [Interpolation](../guides/configuration.md#interpolation).",
        default="none",
        kind="string, or array of strings",
    ),
    KeyDoc(
        "services.NAME.port",
        "The first process's port: `{port}` is `port + process_number - 1`, so each worker gets"
        " its own; the last process's port must be at most 65535 too.",
        default="none",
    ),
    KeyDoc(
        "services.NAME.directory",
        "The working directory, relative to the file; it must exist.",
        default="the directory `run` starts in",
    ),
    KeyDoc(
        "services.NAME.user",
        "Run the processes, and their `exec` probes, as this user: a name or a uid"
        " (supervisord's `user=`, systemd's `User=`). Only root can give another user, and a"
        " manager service only the supervisor's own. See [Users and"
        " groups](../guides/configuration.md#users-and-groups).",
        default="the supervisor's user",
    ),
    KeyDoc(
        "services.NAME.group",
        "With `user`: the primary group, a name or a gid (systemd's `Group=`).",
        default="the user's primary group",
    ),
    KeyDoc(
        "services.NAME.notify",
        "The process is `running` only once it sends `READY=1` over `NOTIFY_SOCKET` (sd_notify).",
    ),
    KeyDoc(
        "services.NAME.start_seconds",
        "Without `notify` or a readiness probe: `running` once the process has been up this"
        " long (0: at once).",
    ),
    KeyDoc(
        "services.NAME.start_timeout",
        "With `notify` or a readiness probe: a start not ready within this many seconds fails"
        " like a crash (0: wait forever). It also bounds a `oneshot` run.",
    ),
    KeyDoc(
        "services.NAME.stop_signal",
        "The signal that stops the process, sent to its process group.",
    ),
    KeyDoc(
        "services.NAME.stop_timeout",
        "Seconds after the stop signal before SIGKILL goes to the whole process group.",
    ),
    KeyDoc(
        "services.NAME.critical",
        "When the service fails for good (`fatal`), the rest of the stack is stopped.",
    ),
    KeyDoc(
        "services.NAME.preload",
        "Fork each process from a template that imported the runtime and the manager once,"
        " instead of starting an interpreter per process. `false` always execs. See"
        " [Preloading](../guides/preloading.md).",
        default="`true` under `[openstack]`, else `false`",
    ),
    KeyDoc(
        "services.NAME.autostart",
        "`false`: not started with the stack (supervisord's `autostart`, a disabled systemd"
        " unit); it stays `stopped` until `supervisor start NAME`.",
    ),
    KeyDoc(
        "services.NAME.depends_on",
        "Services that must be ready before this one starts; if one fails for good, this one"
        " is `blocked`. See [Dependencies](../guides/lifecycle.md#dependencies).",
    ),
    KeyDoc(
        "services.NAME.watchdog",
        "Once `running`, the seconds allowed between two `WATCHDOG=1` keep-alives; a process"
        " that misses one is killed with SIGABRT and restarted by its policy (0: off). See"
        " [Health](../guides/health.md#health-heartbeats-and-the-watchdog).",
    ),
    KeyDoc(
        "services.NAME.log_max_bytes",
        "Log rotation size for this service's processes.",
        default="`[supervisor] log_max_bytes`",
    ),
    KeyDoc(
        "services.NAME.log_backups",
        "Rotated log files kept for this service's processes.",
        default="`[supervisor] log_backups`",
    ),
    KeyDoc(
        "services.NAME.stderr",
        '`"merged"`: stderr goes to `<process>.log` with stdout; `"separate"`: to'
        " `<process>.err.log`. See [Logs](../guides/logs.md).",
    ),
    KeyDoc(
        "services.NAME.oneshot",
        "A job that runs once (a schema sync, a migration): `starting` while it runs, then"
        " `exited`, and ready to its dependants, when it ends with a success exit code"
        " (systemd's `Type=oneshot`). Not allowed with restart policy `always`.",
    ),
    KeyDoc(
        "services.NAME.readiness", "A readiness probe: the process is `starting` until it passes."
    ),
    KeyDoc(
        "services.NAME.liveness",
        "A liveness probe: once `running`, its failures fail the process.",
    ),
    # -- [services.NAME.readiness] and [services.NAME.liveness] ---------------------------------
    KeyDoc(
        "services.NAME.PROBE",
        "One health check for programs that do not speak sd_notify. Each table holds exactly"
        " one of `exec`, `http`, `tcp` or `log`, with its timing. A `HOST` must be an IP"
        " address or `localhost`: a name lookup would block the supervisor.",
    ),
    KeyDoc(
        "services.NAME.PROBE.exec",
        "A program's argv (an array, or a string split as a shell would), run with the"
        " service's environment, directory and user: healthy when it exits 0.",
    ),
    KeyDoc(
        "services.NAME.PROBE.http",
        '`"http://HOST[:PORT]/PATH"`: a `GET`, healthy when the answer\'s status is 2xx or 3xx'
        " (`https` is not probed).",
    ),
    KeyDoc(
        "services.NAME.PROBE.tcp",
        '`"HOST:PORT"` (`"[::1]:PORT"` for IPv6): healthy when a connection is accepted.',
    ),
    KeyDoc(
        "services.NAME.PROBE.log",
        "A regular expression: ready once a line of the run's output (stdout or stderr)"
        " matches. Readiness only, and with no other key.",
    ),
    KeyDoc(
        "services.NAME.PROBE.period",
        "Seconds from the end of one run to the start of the next.",
    ),
    KeyDoc(
        "services.NAME.PROBE.timeout",
        "A run still going after this many seconds has failed: an exec run is SIGKILLed with"
        " its process group, a socket closed.",
    ),
    KeyDoc(
        "services.NAME.PROBE.failure_threshold",
        "Failed runs in a row that decide: for liveness, the process is failed (SIGABRT, then"
        " its restart policy); for readiness, its start fails (0: keep trying until"
        " `start_timeout`).",
    ),
    KeyDoc(
        "services.NAME.PROBE.initial_delay",
        "Seconds after the start (readiness) or after `running` (liveness) before the first run.",
    ),
    # -- [services.NAME.restart] --------------------------------------------------------------
    KeyDoc(
        "services.NAME.restart",
        "When a process that ended is started again, and how soon.",
    ),
    KeyDoc(
        "services.NAME.restart.policy",
        "`always`: restart after any exit; `on-failure`: after an exit code not in"
        " `success_exit_codes`, or a death by a signal the supervisor did not send; `never`.",
    ),
    KeyDoc(
        "services.NAME.restart.success_exit_codes",
        "Exit codes that count as success.",
    ),
    KeyDoc(
        "services.NAME.restart.prevent_exit_codes",
        "Exit codes no restart can heal: the process goes `fatal` at once.",
    ),
    KeyDoc(
        "services.NAME.restart.backoff",
        "The delay before each automatic restart grows with each failure in a row. Also"
        " written inline: `backoff = { initial = 0.1, max = 30.0 }`.",
    ),
    KeyDoc(
        "services.NAME.restart.backoff.initial",
        "The delay before the first restart of a run of failures.",
    ),
    KeyDoc(
        "services.NAME.restart.backoff.max",
        "The delay never exceeds this.",
        allowed="`backoff.initial` to 86400",
        default="`30.0`, or `backoff.initial` if larger",
    ),
    KeyDoc(
        "services.NAME.restart.backoff.factor",
        "Each further restart waits `factor` times longer.",
    ),
    KeyDoc(
        "services.NAME.restart.backoff.jitter",
        "The delay is multiplied by `1 + uniform(-jitter, +jitter)`, then capped at `max`.",
    ),
    KeyDoc(
        "services.NAME.restart.backoff.reset_after",
        "A process that ran at least this long starts the backoff afresh.",
    ),
    KeyDoc(
        "services.NAME.restart.start_limit",
        "A sliding window on automatic restarts: one failure more than `burst` within"
        " `interval` makes the process `fatal`.",
    ),
    KeyDoc(
        "services.NAME.restart.start_limit.burst",
        "Automatic restarts allowed within `interval`.",
    ),
    KeyDoc(
        "services.NAME.restart.start_limit.interval",
        "The window of the start limit, in seconds.",
    ),
    # -- [groups.NAME] ------------------------------------------------------------------------
    KeyDoc(
        "groups.NAME",
        "Services restarted together, as OTP's supervisors restart their children: a"
        " strategy, an intensity, and significant members whose end ends the group.",
    ),
    KeyDoc(
        "groups.NAME.services",
        "The group's members, in dependency order: under `rest_for_one`, a member listed"
        " before one it depends on is refused. A service is in one group at most.",
        default="required",
    ),
    KeyDoc(
        "groups.NAME.strategy",
        "Whom a member's crash restarts besides itself: `one_for_one` nobody, `one_for_all`"
        " every other member, `rest_for_one` the members listed after it.",
    ),
    KeyDoc(
        "groups.NAME.intensity",
        "More than this many restarts of the group's members within `period` ends the group"
        " (OTP's MaxR).",
        default="none: only each member's `start_limit`",
    ),
    KeyDoc(
        "groups.NAME.period",
        "The window of `intensity`, in seconds (OTP's MaxT); not allowed without `intensity`.",
    ),
    KeyDoc(
        "groups.NAME.significant",
        "Members whose end can end the group, as `ends_when` says; a member with restart"
        " policy `always` never ends by itself and is refused.",
    ),
    KeyDoc(
        "groups.NAME.ends_when",
        "`any_significant`: the group ends when one significant member has ended;"
        " `all_significant`: when all of them have; `never` (OTP's `auto_shutdown`).",
    ),
    KeyDoc("groups.NAME.critical", "The group's end stops the whole stack."),
    # -- [hosts.NAME] -------------------------------------------------------------------------
    KeyDoc(
        "hosts.NAME",
        "One machine of a deployment over several, in one file: `supervisor run --host NAME`"
        " runs that host's part alone, with its own state directory. The file's other keys"
        " are shared by every host.",
    ),
    KeyDoc(
        "hosts.NAME.address",
        "The IP address the other hosts reach this one at: required, not loopback, and"
        " different for each host.",
        default="required",
    ),
    KeyDoc(
        "hosts.NAME.services",
        "The services, or single processes (`cinder-volume@fast`), this host runs; every"
        " service of the file must run on some host.",
        default="required",
    ),
    KeyDoc(
        "hosts.NAME.cinder_host",
        "Cinder's `host` option for this host's services, so that two hosts never register"
        " the same `host@backend`.",
        default="the host's name",
    ),
    KeyDoc(
        "hosts.NAME.state_dir",
        "This host's state directory, relative to the file.",
        default="`<state_dir>/<NAME>`",
    ),
    # -- [openstack] --------------------------------------------------------------------------
    KeyDoc(
        "openstack",
        "Makes the stack real OpenStack Cinder: every manager service runs Cinder's own"
        " `Service`. The supervisor reads cinder.conf, without importing Cinder, for what"
        " Cinder's binaries would: the manager options, `host`, `cluster`, `backend_host`,"
        " `enabled_backends` and `backup_workers`. See [Real OpenStack"
        " Cinder](../guides/real-cinder.md).",
    ),
    KeyDoc(
        "openstack.config_files",
        "The cinder.conf files, relative to the file, read in order as"
        " `--config-file a --config-file b`.",
        default="required",
    ),
)
