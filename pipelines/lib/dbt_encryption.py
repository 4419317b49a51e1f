"""dbt-duckdb plugin of the ``encrypted`` target (dbt_project/profiles.yml): readies the
connection dbt opens to write the encrypted build warehouse, before dbt-duckdb ATTACHes
it with the key.

It does what :func:`pipelines.lib.warehouse_files.connect` does for Python writers: a
crypto module DuckDB will write with (httpfs, or the built-in one only when
RCM_ENCRYPTION_INSECURE_CRYPTO=1), spill files beside the warehouse file and encrypted.
"""

from pathlib import Path

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from pipelines.lib.warehouse_files import enable_encrypted_writes


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        attached = (self.creds.attach or []) if self.creds else []
        path = Path(attached[0].path) if attached else Path("rcm.duckdb")
        enable_encrypted_writes(conn, path)
        conn.execute("set temp_directory = '" + (str(path) + ".tmp").replace("'", "''") + "'")
        conn.execute("set temp_file_encryption = true")
