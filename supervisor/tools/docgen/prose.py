"""Help texts as sentences: argparse's are lower case without a full stop, as `--help` shows
them; a page's paragraphs read as sentences."""

from __future__ import annotations


def sentence(text: str) -> str:
    """`text` on one line, capitalized, ending with a full stop; "" stays ""."""
    text = " ".join(text.split())
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."
