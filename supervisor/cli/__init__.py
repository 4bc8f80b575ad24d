"""The command line: the parser, its commands and their formatters."""
