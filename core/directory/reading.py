"""Read import files of any supported kind into normalised entries and problems, streaming each file.

Example:
    batch = read_sources([Source.from_path("suche.json")], mappings={})
    batch.entries[0].values["last_name"], [p.text() for p in batch.problems]
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from core.directory import json_stream, table_reader
from core.directory.entries import Entry, Problem
from core.directory.normalise import normalise_json, normalise_row
from core.errors import ValidationError
from core.messages import Message


@dataclass(frozen=True)
class Source:
    """One import file: its name (shown in every message) and how to open it as bytes."""

    name: str
    open: Callable[[], IO[bytes]]

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        path = Path(path)
        if not path.is_file():
            raise ValidationError(Message("directory.error.file_missing", "File '{path}' does not exist; give the "
                                          "path of a saved search answer or export", path=str(path)),
                                  field="file")  # fmt: skip
        return cls(name=path.name, open=lambda: path.open("rb"))

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> Source:
        return cls(name=name, open=lambda: io.BytesIO(data))

    @property
    def is_table(self) -> bool:
        return table_reader.is_table(self.name)


@dataclass
class Batch:
    """Everything read from the files of one import."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # rejections and warnings
    meta: dict[str, dict] = field(default_factory=dict)  # per file: e.g. {"moreResults": true}

    @property
    def rejected(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "rejected"]


def headers_of(source: Source) -> list[str]:
    """The header row of a CSV/Excel file (for the column-mapping step)."""
    with source.open() as stream:
        return table_reader.read_headers(stream, file_name=source.name)


def read_sources(sources: Iterable[Source], *, mappings: Mapping[str, Mapping[str, str]]) -> Batch:
    """Read every file; ``mappings`` holds the column mapping per CSV file name.

    A file that cannot be read at all (empty, broken JSON, not UTF-8) raises ValidationError naming it: then
    nothing of the import is written. A bad entry is rejected with its reasons and the others go on.
    """
    batch = Batch()
    first_seen: dict[str, tuple[str, int | None]] = {}  # directory id -> (file, line)
    for source in sources:
        read = 0
        with source.open() as stream:
            if source.is_table:
                mapping = mappings.get(source.name)
                if mapping is None:
                    raise ValidationError(Message("directory.error.no_mapping", "{file}: no column mapping; choose "
                                                  "which column holds which field", file=source.name),
                                          field="mapping")  # fmt: skip
                results = (
                    normalise_row(row, file=source.name, line=line)
                    for line, row in table_reader.read_rows(stream, file_name=source.name, mapping=mapping)
                )
            else:
                meta: dict = {}
                batch.meta[source.name] = meta
                results = (
                    normalise_json(raw.data, file=source.name, line=raw.line, index=raw.index)
                    for raw in json_stream.read_entries(stream, file_name=source.name, meta=meta)
                )
            for entry, problems in results:
                read += 1
                batch.problems.extend(problems)
                if entry is None:
                    continue
                if entry.external_id:
                    seen = first_seen.get(entry.external_id)
                    if seen is not None:
                        same_file = seen[0] == source.name
                        message = (
                            Message(
                                "directory.problem.duplicate_id",
                                "id '{id}' appears twice (first at line {line}); the first is used",
                                id=entry.external_id,
                                line=seen[1],
                            )
                            if same_file
                            else Message(
                                "directory.problem.duplicate_id_other_file",
                                "id '{id}' appears twice (first at {first_file}, line {line}); the first is used",
                                id=entry.external_id,
                                first_file=seen[0],
                                line=seen[1],
                            )
                        )
                        batch.problems.append(Problem(
                            file=source.name, line=entry.line, entry=entry.external_id, field="id", message=message,
                            severity="rejected" if same_file else "warning",
                        ))  # fmt: skip
                        continue
                    first_seen[entry.external_id] = (source.name, entry.line)
                batch.entries.append(entry)
        if read == 0:
            raise ValidationError(Message("directory.error.no_entries", "{file}: the file holds no therapist entries; "
                                          "export a search with results", file=source.name),
                                  field="file")  # fmt: skip
    return batch
