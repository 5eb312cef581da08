"""Stream the entries of a saved 116117 search answer (``{"arztPraxisDatas": [...], "moreResults": ...}``).

The file is read in chunks and each entry decoded on its own, so a 200 MB export holds one chunk and one
entry in memory, never the whole document. Example:

    for entry in read_entries(open("suche.json", "rb"), file_name="suche.json"):
        entry.index, entry.line, entry.data["name"]   # -> 0, 3, "Beispiel"
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from core.errors import ValidationError
from core.messages import Message, term

CHUNK_CHARS = 1 << 16  # 64 KiB: many entries per read, a bounded buffer
MAX_ENTRY_CHARS = 1 << 20  # one entry is a few KiB; a value this long means the file is broken, stop reading
ENTRIES_KEY = "arztPraxisDatas"
_SPACE = re.compile(r"[\s,]*")
_BLANK = re.compile(r"\s*")
_DECODER = json.JSONDecoder()
END_OF_FILE = term("directory.json.end_of_file", "the end of the file")


@dataclass(frozen=True)
class RawEntry:
    index: int  # 0-based position in arztPraxisDatas
    line: int  # 1-based line of the file where the entry starts
    data: Any


class _Buffer:
    """A sliding text window over a binary file that knows the line number of its start."""

    def __init__(self, stream: IO[bytes], file_name: str) -> None:
        import codecs

        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._stream = stream
        self.file_name = file_name
        self.text = ""
        self.pos = 0
        self.line = 1  # line number at self.text[0]
        self._mark = (0, 1)  # (position, its line): line_at counts on from here, not from the start each time
        self.eof = False

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self._stream.read(CHUNK_CHARS)
        try:
            decoded = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise ValidationError(
                Message(
                    "directory.error.json_not_utf8",
                    "{file}: not UTF-8 near line {line} ({detail}); save the "
                    "search answer as UTF-8 (as the browser does) and import it again",
                    file=self.file_name,
                    line=self.line_at(len(self.text)),
                    detail=exc.reason,
                ),
                field="file",
            ) from None
        if not chunk:
            self.eof = True
        if self.pos > CHUNK_CHARS:  # drop what was consumed, keep the line count right
            self.line = self.line_at(self.pos)
            self.text = self.text[self.pos :]
            self.pos = 0
            self._mark = (0, self.line)
        self.text += decoded
        return True

    def line_at(self, pos: int) -> int:
        """The line of ``text[pos]``, counted on from the last position asked for (entries are asked in order)."""
        mark, line = self._mark
        if pos < mark:
            mark, line = 0, self.line
        line += self.text.count("\n", mark, pos)
        self._mark = (pos, line)
        return line

    def skip_space(self, *, commas: bool = False) -> None:
        pattern = _SPACE if commas else _BLANK
        while True:
            self.pos = pattern.match(self.text, self.pos).end()
            if self.pos < len(self.text) or not self.more():
                return

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str, what: Message) -> None:
        if self.peek() != char:
            found = repr(self.text[self.pos]) if self.pos < len(self.text) else END_OF_FILE
            raise self.broken(
                Message("directory.json.expected", "expected {what} but found {found}", what=what, found=found)
            )
        self.pos += 1

    def value(self) -> Any:
        """Decode one JSON value at the current position, reading more of the file until it is complete."""
        self.skip_space()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.text) - self.pos < MAX_ENTRY_CHARS and self.more():
                    continue  # the value goes on in the next chunk
                raise self.broken(Message("directory.json.decoder", "{detail}", detail=exc.msg), pos=exc.pos) from None
            if end == len(self.text) and not self.eof and self.more():
                continue  # a number cut at the chunk border: decode it again with the rest
            self.pos = end
            return value

    def broken(self, reason: Message, *, pos: int | None = None) -> ValidationError:
        at = self.pos if pos is None else pos
        if self.eof and at >= len(self.text.rstrip()) - 1:
            reason = term(
                "directory.json.truncated", "the file ends in the middle (was it saved or copied completely?)"
            )
        return ValidationError(
            Message(
                "directory.error.json_broken",
                "{file}, line {line}: not valid JSON, {reason}; save the search "
                "answer again from the browser and import the whole file",
                file=self.file_name,
                line=self.line_at(at),
                reason=reason,
            ),
            field="file",
        )


def read_entries(stream: IO[bytes], *, file_name: str, meta: dict[str, Any] | None = None) -> Iterator[RawEntry]:
    """Yield each element of ``arztPraxisDatas``; other top-level keys go into ``meta`` (e.g. moreResults).

    Raises ValidationError naming the file and line for an empty file, broken or truncated JSON, or a
    document without ``arztPraxisDatas``.
    """
    buffer = _Buffer(stream, file_name)
    buffer.more()
    if buffer.peek() == "":
        raise ValidationError(Message("directory.error.json_empty", "{file}: the file is empty; export the search "
                                      "answer again", file=file_name), field="file")  # fmt: skip
    buffer.expect("{", term("directory.json.what.object", "a JSON object with 'arztPraxisDatas'"))
    seen_entries = False
    while True:
        buffer.skip_space(commas=True)
        if buffer.peek() == "}":
            break
        if buffer.peek() == "":
            raise buffer.broken(term("directory.json.not_closed", "the object is not closed"))
        key = buffer.value()
        if not isinstance(key, str):
            raise buffer.broken(term("directory.json.key_expected", "expected a key in quotes"))
        buffer.expect(":", term("directory.json.what.colon", "':' after the key"))
        if key != ENTRIES_KEY:
            value = buffer.value()
            if meta is not None:
                meta[key] = value
            continue
        seen_entries = True
        buffer.expect("[", term("directory.json.what.list", "a list after 'arztPraxisDatas'"))
        index = 0
        while True:
            buffer.skip_space(commas=True)
            if buffer.peek() == "]":
                buffer.pos += 1
                break
            if buffer.peek() == "":
                raise buffer.broken(
                    Message("directory.json.list_ends", "the list ends after entry {index}", index=index)
                )
            line = buffer.line_at(buffer.pos)
            yield RawEntry(index=index, line=line, data=buffer.value())
            index += 1
    if not seen_entries:
        raise ValidationError(
            Message(
                "directory.error.json_no_entries",
                "{file}: no 'arztPraxisDatas' list; this is not a saved 116117 search answer",
                file=file_name,
            ),
            field="file",
        )
