"""Every block of commands in README.md and docs/ is either run by a test or says it is an
illustration (docs/design/documentation.md): no fence is left undecided, and `console` blocks
appear only where tests/docs/test_readme_newcomer.py runs them."""

from __future__ import annotations

import pytest

from tests.support.docblocks import REPO, UNDECIDED, blocks, commands, markdown_files

# The pages whose `console` blocks a test runs, in a fresh clone, in order.
RUN_BY_TEST = frozenset({REPO / "README.md", REPO / "docs" / "tutorial" / "index.md"})


@pytest.mark.parametrize("page", markdown_files(), ids=lambda path: str(path.relative_to(REPO)))
def test_every_fence_says_whether_it_is_run(page):
    undecided = [
        f"{block.where}: ```{block.info}" for block in blocks(page) if block.info in UNDECIDED
    ]
    assert not undecided, (
        "a code block of commands must say what it is: ```console (run by a test) or ```text"
        " (an illustration); a file's contents name their format (```toml, ```json, ...):\n"
        + "\n".join(undecided)
    )


def test_console_blocks_are_only_where_a_test_runs_them():
    stray = [
        block.where
        for page in markdown_files()
        if page not in RUN_BY_TEST
        for block in blocks(page)
        if block.info == "console"
    ]
    assert not stray, (
        "```console blocks are run only in README.md and docs/tutorial/index.md"
        " (tests/docs/test_readme_newcomer.py): mark these ```text, or run them there:\n"
        + "\n".join(stray)
    )


def test_the_run_pages_have_commands_to_run():
    for page in RUN_BY_TEST:
        for block in blocks(page):
            if block.info == "console":
                assert commands(block), f"{block.where}: a console block without a `$ ` command"
