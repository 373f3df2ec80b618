"""Storage URLs, whatever engine stores the trials: which kind a URL is, its file, and how to
name it in a message without its password. Imports no engine (and no optuna).

>>> storage_kind("postgresql://me:secret@db.example.org/studies"), storage_kind("journal:/shared/s.log")
('rdb', 'journal')
>>> describe("postgresql://me:secret@db.example.org/studies")
"'postgresql://me@db.example.org/studies'"
"""

from __future__ import annotations

from pathlib import Path

from ...errors import InvalidArgumentError

__all__ = ["storage_kind", "describe", "storage_file", "SCHEMES"]

#: The storage URLs a study accepts, for messages.
SCHEMES = ("postgresql://user:password@host:port/database, mysql://..., journal:/shared/path/study.log or "
           "sqlite:///path/study.db")

_KINDS = {"sqlite": "sqlite", "postgresql": "rdb", "postgres": "rdb", "mysql": "rdb", "journal": "journal"}


def storage_kind(url: str) -> str:
    """``'sqlite'`` (one process), ``'rdb'`` (PostgreSQL, MySQL) or ``'journal'`` (a shared file),
    or an :class:`~upsamplekit.errors.InvalidArgumentError` naming the accepted forms."""
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower() if ":" in url else ""
    if scheme not in _KINDS:
        raise InvalidArgumentError(f"storage must be one of {SCHEMES}, but got {describe(url)}")
    return _KINDS[scheme]


def describe(url: str) -> str:
    """The storage URL without its password, quoted, for messages."""
    if url.startswith("sqlite:///"):
        return repr(url[len("sqlite:///"):])
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return repr(f"{scheme}://{credentials.split(':', 1)[0]}@{host}")
    return repr(url)


def storage_file(url: str) -> Path | None:
    """The file of a SQLite or journal URL (None for a server, or SQLite in memory).

    >>> str(storage_file("sqlite:///out/study.db")), str(storage_file("journal:///shared/s.log"))
    ('out/study.db', '/shared/s.log')
    """
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    if storage_kind(url) == "journal":
        path = url.split(":", 1)[1]
        path = path[2:] if path.startswith("//") else path
        return Path(path) if path else None
    return None
