"""Open the warehouse files: the build file ``rcm.duckdb`` and the serving file
``serving.duckdb``, plain or encrypted at rest. The one place that knows how.

Encryption is an option (SECURITY.md): when ``RCM_ENCRYPTION_KEY`` is set, every DuckDB
file the pipeline writes is encrypted with DuckDB's database encryption (AES-256-GCM, a
key derived from the one given, a random salt per file; the write-ahead log and the
spill files are encrypted too), and every reader opens them with the same key. When it
is unset, files are plain, and opening one is exactly ``duckdb.connect(path)``.

An encrypted file cannot be the main database of a connection: it is ATTACHed with its
key to an in-memory one and made the default with ``USE``, so unqualified names
(``raw.file_registry``) mean the file, as they do for a plain connection.

Writing: DuckDB encrypts with the random numbers of OpenSSL, which its ``httpfs``
extension brings; its built-in crypto module is trusted for reading only. So a writer
loads ``httpfs`` (installed once with ``INSTALL httpfs``). Where that extension cannot
be had, ``RCM_ENCRYPTION_INSECURE_CRYPTO=1`` lets DuckDB write with its built-in module,
whose nonces and salts come from a non-cryptographic generator: the bytes on disk are
still ciphertext, but DuckDB does not vouch for the strength, so it is for tests and
demos, never for real patient data.

Problems come back as :class:`WarehouseFileError`, whose message names the file and says
what to do (key missing, key wrong, key given for a plain file, httpfs missing) and never
holds the key.

Pure: no Dagster or Dash import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import duckdb

KEY_ENV = "RCM_ENCRYPTION_KEY"
INSECURE_CRYPTO_ENV = "RCM_ENCRYPTION_INSECURE_CRYPTO"
CIPHER = "GCM"  # authenticated: a changed block or a wrong key is refused, not misread


class WarehouseFileError(RuntimeError):
    """A warehouse file cannot be opened as asked: the message names the file and says
    what to do. It never contains the key."""

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


def encryption_key(environ: Mapping[str, str] | None = None) -> str | None:
    """The key from ``RCM_ENCRYPTION_KEY``, or None (files are plain)."""
    key = (os.environ if environ is None else environ).get(KEY_ENV, "")
    return key or None


def connect(
    path: Path,
    *,
    read_only: bool = False,
    alias: str | None = None,
    config: dict[str, object] | None = None,
) -> duckdb.DuckDBPyConnection:
    """A connection whose default database is the warehouse file at ``path``.

    Without a key this is ``duckdb.connect(path, read_only=...)``. With one, the file is
    ATTACHed as ``alias`` (default: the file's stem, the name DuckDB gives a main database
    file, so ``rcm`` for the build file as in dbt's relations) to an in-memory database
    and made the default; a new file is created encrypted. Spill files go beside the
    warehouse file (``<path>.tmp``), as they do for a plain file, and are encrypted.
    Raises :class:`WarehouseFileError` for a key problem, DuckDB's error for any other."""
    path = Path(path)
    key = encryption_key()
    if key is None:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=dict(config or {}))
        except duckdb.Error as error:
            problem = _key_problem(error, path)
            if problem is None:
                raise
            raise problem from None
    alias = alias or path.stem
    con = duckdb.connect(":memory:", config=dict(config or {}))
    try:
        con.execute(f"set temp_directory = '{_sql_str(str(path) + '.tmp')}'")
        attach(con, path, alias, read_only=read_only)
        con.execute(f"use {_ident(alias)}")
    except BaseException:
        con.close()
        raise
    return con


def attach(
    con: duckdb.DuckDBPyConnection, path: Path, alias: str, *, read_only: bool = False
) -> None:
    """ATTACH the warehouse file at ``path`` to ``con`` as ``alias``: with the key of
    ``RCM_ENCRYPTION_KEY`` when it is set (a new file is then created encrypted).
    Raises :class:`WarehouseFileError` for a key problem; any other failure to open the
    file (e.g. a writer holding it) is DuckDB's own error, as without encryption."""
    path = Path(path)
    key = encryption_key()
    options = ["read_only"] if read_only else []
    if key is not None:
        if not read_only:
            try:
                enable_encrypted_writes(con, path)
            except WarehouseFileError:
                _check_key(path, key)  # a wrong or needless key is the problem to tell first
                raise
        options += [f"encryption_key '{_sql_str(key)}'", f"encryption_cipher '{CIPHER}'"]
    sql = f"attach '{_sql_str(str(path))}' as {_ident(alias)}"
    if options:
        sql += f" ({', '.join(options)})"
    try:
        con.execute(sql)
        if key is not None:
            con.execute("set temp_file_encryption = true")
    except duckdb.Error as error:
        problem = _key_problem(error, path)
        if problem is None:
            if key is not None and key in str(error):
                raise duckdb.Error(str(error).replace(key, "***")) from None
            raise
        raise problem from None


def enable_encrypted_writes(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Give DuckDB a crypto module it will write with: httpfs (OpenSSL), or, when
    ``RCM_ENCRYPTION_INSECURE_CRYPTO=1`` and httpfs is not installed, its built-in one."""
    try:
        con.execute("load httpfs")
        return
    except duckdb.Error:
        pass
    if os.environ.get(INSECURE_CRYPTO_ENV, "") in ("1", "true", "yes"):
        con.execute("set force_mbedtls_unsafe = true")
        return
    raise WarehouseFileError(
        f"cannot write the encrypted warehouse file {path}: DuckDB writes encrypted files "
        "only with OpenSSL, from its httpfs extension, which is not installed. Install it "
        "once with `python -c \"import duckdb; duckdb.sql('INSTALL httpfs')\"`, or unset "
        f"{KEY_ENV} to write plain files. ({INSECURE_CRYPTO_ENV}=1 writes with DuckDB's "
        "built-in crypto instead: for tests and demos only, not for patient data.)",
        path,
    )


def _check_key(path: Path, key: str) -> None:
    """Raise the key problem of opening the existing file ``path`` read-only with ``key``,
    if it has one (on a connection of its own)."""
    if not path.exists():
        return
    probe = duckdb.connect(":memory:")
    try:
        probe.execute(
            f"attach '{_sql_str(str(path))}' as key_check "
            f"(read_only, encryption_key '{_sql_str(key)}', encryption_cipher '{CIPHER}')"
        )
    except duckdb.Error as error:
        problem = _key_problem(error, path)
        if problem is not None:
            raise problem from None
    finally:
        probe.close()


def _key_problem(error: duckdb.Error, path: Path) -> WarehouseFileError | None:
    """DuckDB's error on opening ``path`` as a message a person can act on, when it is
    about encryption; None for any other error."""
    lowered = str(error).lower()
    if "without a key" in lowered:
        message = (
            f"the warehouse file {path} is encrypted and {KEY_ENV} is not set: set it to "
            "the key the file was written with."
        )
    elif "wrong encryption key" in lowered or "are you using the right key" in lowered:
        message = (
            f"{KEY_ENV} is not the key the warehouse file {path} was encrypted with: set "
            "the right key (a lost key cannot be recovered: rebuild the warehouse from the "
            "extracts in archive/ with a new key)."
        )
    elif "is not encrypted" in lowered:
        message = (
            f"{KEY_ENV} is set but the warehouse file {path} is not encrypted: unset it to "
            "use the plain file, or encrypt the warehouse by rebuilding it with the key set "
            "(move the plain files in warehouse/ aside, copy the extracts from archive/ "
            "back to landing/, run `rcm ingest` and `rcm build`), then delete the plain files."
        )
    elif "read-only crypto module" in lowered:
        message = (
            f"cannot write the encrypted warehouse file {path}: DuckDB writes encrypted "
            "files only with its httpfs extension (OpenSSL) loaded."
        )
    else:
        return None
    return WarehouseFileError(message, path)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(text: str) -> str:
    return text.replace("'", "''")
