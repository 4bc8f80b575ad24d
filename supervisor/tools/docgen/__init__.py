"""The reference pages and the man page, generated from the code they describe.

One module per page: `clipage` and `manpage` from the `supervisor` command's own argparse
parser (`cliparser`), `configpage` from what the services.toml loader reads (`configkeys`),
`statespage` from `policy.states`, `exitspage` from `shared.exits` (`exitcodes`).  `generate`
writes them all, or with `--check` says which committed files are stale.  Every page is
deterministic: the same code gives the same bytes, whatever the machine or the time.
"""
