"""`supervisor ui`: a terminal UI attached to a running supervisor through its control socket.

`attach` holds the connections (the event stream, read by a thread; requests), `rows` turns a
`status` reply into the table's lines, `logpane` follows the selected process's log files,
`screen` lays them out with urwid and maps the keys to requests, `command` is the command.
Nothing here is imported by `supervisor run` or any other command: urwid is an optional extra.
"""
