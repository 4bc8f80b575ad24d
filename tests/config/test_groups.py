"""`[groups.NAME]`: what a group reads as, and every refusal at its file, line and key."""

from __future__ import annotations

import subprocess
import sys

from supervisor import config
from supervisor.policy.strategy import GroupPolicy
from supervisor.testing.harness import WriteConfig
from tests.support.configtext import at, errors_of

SERVICES = """
[services.db]
command = ["true"]
[services.api]
command = ["true"]
depends_on = ["db"]
[services.worker]
command = ["true"]
depends_on = ["api"]
[services.job]
command = ["true"]
oneshot = true
"""


def test_a_group_reads_with_otps_defaults(write_config: WriteConfig):
    path = write_config(SERVICES + '[groups.core]\nservices = ["db", "api"]\n')
    assert config.load(path).groups == (GroupPolicy("core", ("db", "api")),)


def test_every_key_of_a_group(write_config: WriteConfig):
    path = write_config(
        SERVICES
        + """
        [groups.core]
        services = ["db", "api", "worker", "job"]
        strategy = "rest_for_one"
        intensity = 3
        period = 30
        significant = ["job"]
        ends_when = "all_significant"
        critical = true
        """
    )
    plan = config.load(path)
    (group,) = plan.groups
    assert group == GroupPolicy(
        "core",
        ("db", "api", "worker", "job"),
        "rest_for_one",
        3,
        30.0,
        frozenset({"job"}),
        "all_significant",
        True,
    )
    assert plan.group_of("api") is group
    assert plan.group_of("nothing") is None


def test_unknown_members_and_a_service_in_two_groups_are_refused(write_config: WriteConfig):
    path = write_config(
        SERVICES
        + """
        [groups.a]
        services = ["db", "dbb"]
        [groups.b]
        services = ["db", "api", "api"]
        """
    )
    line_a, line_b = at(path, '"dbb"'), at(path, '"api", "api"')
    assert errors_of(path) == [
        f"{line_a}: groups.a.services = 'dbb': no such service; known: db, api, worker, job",
        f"{line_b}: groups.b.services = 'db': already in group a; a service is in one",
        f"{line_b}: groups.b.services = 'api': listed twice",
    ]


def test_bad_values_are_refused_with_what_is_allowed(write_config: WriteConfig):
    path = write_config(
        SERVICES
        + """
        [groups.core]
        services = ["db"]
        strategy = "all_for_one"
        intensity = -1
        period = 0
        critcal = true
        [groups.empty]
        services = []
        [groups.none]
        strategy = "one_for_all"
        """
    )
    assert errors_of(path) == [
        f"{at(path, 'all_for_one')}: groups.core.strategy = 'all_for_one':"
        " expected one of one_for_one, one_for_all, rest_for_one",
        f"{at(path, 'intensity')}: groups.core.intensity = -1: expected a value from 0 to 1000",
        f"{at(path, 'period')}: groups.core.period = 0: expected a value from 0.001 to 86400",
        f"{at(path, 'critcal')}: groups.core.critcal: unknown key; did you mean 'critical'?",
        f"{at(path, 'services = []')}: groups.empty.services = []: expected at least one service",
        f"{at(path, '[groups.none]')}: groups.none:"
        " expected services = [the services of the group]",
    ]


def test_period_needs_intensity(write_config: WriteConfig):
    path = write_config(SERVICES + '[groups.core]\nservices = ["db"]\nperiod = 5\n')
    assert errors_of(path) == [
        f"{at(path, 'period')}: groups.core.period = 5: needs intensity: N restarts"
    ]


def test_rest_for_one_needs_the_members_in_dependency_order(write_config: WriteConfig):
    path = write_config(
        SERVICES + '[groups.core]\nservices = ["api", "db"]\nstrategy = "rest_for_one"\n'
    )
    assert errors_of(path) == [
        f"{at(path, 'services = ')}: groups.core.services = 'api': listed before db, which it"
        " depends on: rest_for_one restarts the members after a crashed one, so list db first"
    ]


def test_significant_members_are_refused_where_they_make_no_sense(write_config: WriteConfig):
    path = write_config(
        SERVICES
        + """
        [services.always]
        command = ["true"]
        restart = { policy = "always" }
        [services.after-job]
        command = ["true"]
        depends_on = ["job"]
        [groups.a]
        services = ["db", "always"]
        significant = ["always", "api"]
        ends_when = "any_significant"
        [groups.b]
        services = ["job", "after-job"]
        significant = ["job"]
        ends_when = "any_significant"
        [groups.c]
        services = ["worker"]
        significant = ["worker"]
        [groups.d]
        services = ["api"]
        ends_when = "all_significant"
        """
    )
    line_a = at(path, 'significant = ["always"')
    line_b, line_c = at(path, 'significant = ["job"]'), at(path, 'significant = ["worker"]')
    assert errors_of(path) == [
        f"{line_a}: groups.a.significant = 'always': its restart policy is \"always\", so it"
        ' never ends by itself: give it policy "on-failure" or "never"',
        f"{line_a}: groups.a.significant = 'api': not a member of the group: db, always",
        f"{line_b}: groups.b.significant = 'job': a one-shot job"
        " that after-job wait for: its success would end the group as they start (make it not"
        " significant, or end on all_significant)",
        f"{line_c}: groups.c.significant = ['worker']: does"
        ' nothing without ends_when = "any_significant" or "all_significant"',
        f"{at(path, 'all_significant')}: groups.d.ends_when = 'all_significant':"
        " expected significant = [members] beside it",
    ]


def test_check_refuses_a_bad_group_with_its_line(write_config: WriteConfig):
    path = write_config(SERVICES + '[groups.core]\nservices = ["nope"]\n')
    checked = subprocess.run(
        [sys.executable, "-m", "supervisor", "check", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode != 0
    assert f"{at(path, 'services = ')}: groups.core.services = 'nope': no such service" in (
        checked.stderr + checked.stdout
    )
