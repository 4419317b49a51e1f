"""The dbt SQL is sqlfluff clean (dbt templater, duckdb dialect, dbt_project/.sqlfluff):
STYLE.md's lowercase keywords, trailing commas, explicit aliases and line length."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"


def test_dbt_sql_is_sqlfluff_clean():
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    out = subprocess.run(
        [str(sqlfluff), "lint", "--disable-progress-bar"],
        cwd=DBT_PROJECT,  # the dbt templater reads .sqlfluff from the working directory
        env={**os.environ, "RCM_WAREHOUSE": ":memory:", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
    assert "Project Compiled" in out.stdout + out.stderr  # the dbt templater ran, not plain jinja
