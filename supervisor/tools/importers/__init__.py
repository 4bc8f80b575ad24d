"""`supervisor import`: another tool's stack description translated into a services.toml.

`command` (the command line: format, output, the final check) → one reader per format:
`supervisord` (with `inifile`, `expansions`, `supervisordprogram`), `procfile`, `compose` (with
`yamlsource`, `composevars`, `composeservice`) → a `model.Translation` (services, and notes on
what was approximated or dropped) → `writer` (tomlkit, commented).  `envfiles` keeps another
tool's env file where services.toml reads it the same way.  Nothing here is imported by `run`.
"""
