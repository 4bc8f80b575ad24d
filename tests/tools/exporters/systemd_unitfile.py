"""A reader of systemd unit files as systemd reads them (systemd.syntax(7), systemd.service(5)),
written apart from the exporter so that a test reads back what a unit says, not what the writer
meant: sections and keys, specifiers (%i, %I, %%), words with double or single quotes and C
escapes, `\\;`, and `$$` in ExecStart=.  Only what the exporter may write is accepted; anything
else is an AssertionError, so a unit the reader does not understand fails the test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

_C_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
    "s": " ",
}


@dataclass
class UnitFile:
    path: Path
    sections: dict[str, list[tuple[str, str]]]

    def values(self, section: str, key: str) -> list[str]:
        return [value for name, value in self.sections.get(section, []) if name == key]

    def value(self, section: str, key: str) -> str | None:
        found = self.values(section, key)
        assert len(found) <= 1, f"{self.path}: {key}= set {len(found)} times"
        return found[0] if found else None

    def comments(self) -> list[str]:
        return [line for line in self.path.read_text().splitlines() if line.startswith("#")]

    def exec_start(self, instance: str = "") -> list[str]:
        return self.command("ExecStart", instance)

    def command(
        self, key: str, instance: str = "", variables: dict[str, str] | None = None
    ) -> list[str]:
        """An Exec*= line's argv as systemd runs it: `$NAME` from `variables` (systemd's own,
        such as MAINPID), `$$` a dollar."""
        value = self.value("Service", key)
        assert value is not None, f"{self.path}: no {key}="
        words = split_words(specifiers(value, instance))
        return [_expand_variables(word, variables or {}) for word in words]

    def environment(self, instance: str = "") -> dict[str, str]:
        env: dict[str, str] = {}
        for value in self.values("Service", "Environment"):
            for word in split_words(specifiers(value, instance)):
                name, equals, assigned = word.partition("=")
                assert equals, f"{self.path}: not an assignment: {word!r}"
                env[name] = assigned
        return env

    def working_directory(self, instance: str = "") -> str | None:
        value = self.value("Service", "WorkingDirectory")
        return None if value is None else specifiers(value, instance)


def read_unit(path: Path) -> UnitFile:
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        assert not stripped.endswith("\\"), f"{path}:{number}: continuation lines not expected"
        if stripped.startswith("["):
            assert stripped.endswith("]"), f"{path}:{number}: {line!r}"
            current = sections.setdefault(stripped[1:-1], [])
            continue
        key, equals, value = stripped.partition("=")
        assert equals and current is not None, f"{path}:{number}: {line!r}"
        current.append((key.strip(), value.strip()))
    return UnitFile(path, sections)


def specifiers(text: str, instance: str) -> str:
    """Resolve %i and %I (names here need no unescaping) and %%; any other specifier fails."""
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "%":
            out.append(char)
            index += 1
            continue
        spec = text[index + 1 : index + 2]
        assert spec in ("%", "i", "I"), f"unexpected specifier %{spec} in {text!r}"
        if spec != "%":
            assert instance, f"%{spec} in a unit read without an instance: {text!r}"
        out.append("%" if spec == "%" else instance)
        index += 2
    return "".join(out)


def split_words(text: str) -> list[str]:
    """systemd's extract_first_word with unquoting and C unescaping, repeated."""
    words: list[str] = []
    index = 0
    while True:
        while index < len(text) and text[index] in " \t":
            index += 1
        if index >= len(text):
            return words
        word: list[str] = []
        quote: str | None = None
        while index < len(text):
            char = text[index]
            if quote is None and char in " \t":
                break
            if char == "\\":
                escaped, index = _escape(text, index)
                word.append(escaped)
                continue
            if quote is None and char in "\"'":
                quote = char
            elif char == quote:
                quote = None
            else:
                word.append(char)
            index += 1
        assert quote is None, f"unterminated quote in {text!r}"
        words.append("".join(word))


def _escape(text: str, index: int) -> tuple[str, int]:
    code = text[index + 1 : index + 2]
    if code in _C_ESCAPES:
        return _C_ESCAPES[code], index + 2
    if code == ";":
        return ";", index + 2
    if code == "x":
        return chr(int(text[index + 2 : index + 4], 16)), index + 4
    raise AssertionError(f"unknown escape \\{code} in {text!r}")


def _expand_variables(word: str, variables: dict[str, str]) -> str:
    """ExecStart= and the like expand $NAME and ${NAME} (here: only a whole word $NAME, the
    one form the exporter writes, and only from `variables`); $$ is a dollar."""
    if word.startswith("$") and word[1:] in variables:
        return variables[word[1:]]
    out = []
    index = 0
    while index < len(word):
        if word[index] == "$":
            assert word[index + 1 : index + 2] == "$", f"an unexpected variable in {word!r}"
            index += 1
        out.append(word[index])
        index += 1
    return "".join(out)
