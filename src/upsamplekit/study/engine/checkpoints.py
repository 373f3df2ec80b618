"""Where a study keeps its training checkpoints (successive halving continues a candidate from
the one its last rung left): with the trials, so that every worker that sees the study sees them.

- SQLite, PostgreSQL, MySQL: a table ``upsamplekit_checkpoints`` in the study's own database,
  one row per checkpoint (written in one transaction: a reader sees the old bytes or the new).
- A journal file: a folder next to it, ``<journal>.checkpoints/<study name>/``, on the disk every
  worker already shares; each file is written under a temporary name and renamed into place.

A checkpoint is opaque bytes here (:mod:`upsamplekit.study.core` writes and checks them).
Imports no engine (and no optuna).
"""

from __future__ import annotations

import hashlib
import os
import re
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

__all__ = ["CheckpointStore", "TableCheckpoints", "FolderCheckpoints", "TABLE"]

#: The name of the checkpoint table in a study's database.
TABLE = "upsamplekit_checkpoints"


class CheckpointStore(ABC):
    """Named byte strings kept with one study."""

    @abstractmethod
    def save(self, name: str, data: bytes) -> None:
        """Keep ``data`` under ``name``, replacing what was there."""

    @abstractmethod
    def load(self, name: str) -> bytes | None:
        """The bytes kept under ``name``, or None."""

    @abstractmethod
    def where(self, name: str) -> str:
        """Where ``name`` is kept, for messages."""


class TableCheckpoints(CheckpointStore):
    """Checkpoints in a table of a SQLAlchemy database (the study's own)."""

    def __init__(self, engine: Any, study_name: str) -> None:
        import sqlalchemy as sa
        from sqlalchemy.dialects import mysql

        self._sa, self._engine, self._study = sa, engine, study_name
        metadata = sa.MetaData()
        self._table = sa.Table(TABLE, metadata,
                               sa.Column("study_name", sa.String(512), primary_key=True),
                               sa.Column("name", sa.String(255), primary_key=True),  # 767 key chars: MySQL's limit
                               # MySQL's plain BLOB holds 64 KiB: a checkpoint needs a LONGBLOB there.
                               sa.Column("data", sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql"),
                                         nullable=False))
        metadata.create_all(engine, checkfirst=True)

    def save(self, name: str, data: bytes) -> None:
        table, sa = self._table, self._sa
        match = (table.c.study_name == self._study) & (table.c.name == name)
        with self._engine.begin() as connection:
            connection.execute(sa.delete(table).where(match))
            connection.execute(sa.insert(table).values(study_name=self._study, name=name, data=data))

    def load(self, name: str) -> bytes | None:
        table, sa = self._table, self._sa
        with self._engine.connect() as connection:
            row = connection.execute(sa.select(table.c.data).where(
                (table.c.study_name == self._study) & (table.c.name == name))).first()
        return None if row is None else bytes(row[0])

    def where(self, name: str) -> str:
        return f"row {name!r} of table {TABLE}"


class FolderCheckpoints(CheckpointStore):
    """Checkpoints as files in a folder (next to a journal file, on the disk its workers share)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, name: str) -> Path:
        safe = re.sub(r"[^\w.@-]+", "_", name)
        return self.folder / f"{safe}-{hashlib.sha1(name.encode()).hexdigest()[:8]}.pt"

    def save(self, name: str, data: bytes) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    def load(self, name: str) -> bytes | None:
        try:
            return self._path(name).read_bytes()
        except FileNotFoundError:
            return None

    def where(self, name: str) -> str:
        return str(self._path(name))
