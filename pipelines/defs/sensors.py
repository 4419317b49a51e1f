"""The landing sensor: new files in data/landing/<source>/ trigger that source's ingest.

A file is picked up only once its size and modification time have not changed between
two evaluations and it is a few seconds old, so a file still being copied is never read
half-way. The cursor remembers each waiting file's (size, mtime); the run key is the
file's SHA-256 (a digest of the digests when several files go in one run), so the same
content never triggers two runs.
"""

import hashlib
import json
import time

from dagster import (
    DefaultSensorStatus,
    RunConfig,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from pipelines.defs.ingest import ASSET_NAMES, INGEST_ASSETS, SOURCE_KINDS, IngestConfig
from pipelines.defs.resources import WarehouseResource
from pipelines.lib.ingest.landing import scan, sha256_of

MIN_AGE_SECONDS = 5.0


@sensor(
    name="landing_sensor",
    minimum_interval_seconds=30,
    target=INGEST_ASSETS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts the ingest of a source when new files have settled in its landing folder",
)
def landing_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
    seen: dict[str, list[float]] = json.loads(context.cursor) if context.cursor else {}
    now = time.time()
    current: dict[str, list[float]] = {}
    ready: dict[str, list[tuple[str, str]]] = {}
    for f in scan(warehouse.root / "landing"):
        key = f.name
        current[key] = [f.size, f.mtime]
        settled = seen.get(key) == [f.size, f.mtime] and now - f.mtime >= MIN_AGE_SECONDS
        if settled:
            ready.setdefault(f.folder, []).append((f.name, sha256_of(f.path)))
    context.update_cursor(json.dumps(current, sort_keys=True))
    if not ready:
        return SkipReason(
            f"{len(current)} file(s) waiting to settle" if current else "no new files"
        )
    requests = []
    for source, files in sorted(ready.items()):
        digests = sorted(sha for _, sha in files)
        run_key = (
            digests[0]
            if len(digests) == 1
            else hashlib.sha256("".join(digests).encode()).hexdigest()
        )
        names = sorted(name for name, _ in files)
        requests.append(
            RunRequest(
                run_key=f"{source}:{run_key}",
                asset_selection=[
                    spec.key
                    for asset in INGEST_ASSETS
                    if asset.node_def.name == ASSET_NAMES[source]
                    for spec in asset.specs
                ],
                run_config=RunConfig(
                    ops={ASSET_NAMES[source]: IngestConfig(files=names, settle_seconds=0.0)}
                ),
                tags={"source": source, "files": str(len(names))},
            )
        )
    return requests


assert set(ASSET_NAMES) == set(SOURCE_KINDS)
