"""Resources shared by the assets: where the data lives, and a progress reporter that the
``rcm`` command swaps in when it runs the assets in process."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dagster import ConfigurableResource


def default_data_dir() -> str:
    return os.environ.get("RCM_DATA_DIR", "data")


class WarehouseResource(ConfigurableResource):
    """The data folder (``RCM_DATA_DIR``): landing, archive, quarantine, warehouse files."""

    data_dir: str = ""

    @property
    def root(self) -> Path:
        return Path(self.data_dir or default_data_dir())


@dataclass
class Progress:
    """Progress callbacks; silent by default (Dagster's own UI shows runs)."""

    on_start: Callable[[str, int], None] = lambda label, total: None
    on_advance: Callable[[str, str], None] = lambda label, detail: None

    def start(self, label: str, total: int) -> None:
        self.on_start(label, total)

    def advance(self, label: str, detail: str = "") -> None:
        self.on_advance(label, detail)
