"""The landing folders: which files are there, what kind each is, and moving a file on to
``archive/`` (loaded) or ``quarantine/`` (rejected or duplicate, with a sidecar saying why).

Nothing is deleted: a file leaves the landing folder only by a rename into one of the two
folders, under a name that keeps its landing sub-folder and never overwrites another file.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from pipelines.lib.csv_extracts import kind_of as csv_kind_of

# Landing sub-folder -> the file kinds found there
KINDS_BY_FOLDER: dict[str, tuple[str, ...]] = {
    "scheduling": ("appointments", "patients"),
    "claims": ("claim_837p",),
    "remits": ("remit_835",),
    "payments": ("patient_payments",),
}
IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".swp")


@dataclass(frozen=True)
class LandingFile:
    path: Path
    folder: str  # landing sub-folder: scheduling, claims, remits, payments
    kind: str | None  # None: not a file this folder takes (it will be rejected)
    size: int
    mtime: float

    @property
    def name(self) -> str:
        """The name people see in errors and the registry: ``<folder>/<file>``."""
        return f"{self.folder}/{self.path.name}"


def file_kind(path: Path) -> str | None:
    """The kind of a landing file from its folder (and name, for CSV extracts)."""
    folder = path.parent.name
    if folder == "claims":
        return "claim_837p"
    if folder == "remits":
        return "remit_835"
    return csv_kind_of(path)


def scan(
    landing: Path, folders: tuple[str, ...] | None = None, settle_seconds: float = 0.0
) -> list[LandingFile]:
    """Files waiting in the landing folders, oldest first (then by name).

    A file modified less than ``settle_seconds`` ago may still be being written and is left
    for a later run, as are hidden files and partial-download suffixes."""
    now = time.time()
    found: list[LandingFile] = []
    for folder in folders or tuple(KINDS_BY_FOLDER):
        directory = landing / folder
        if not directory.is_dir():
            continue
        for entry in os.scandir(directory):
            if (
                not entry.is_file()
                or entry.name.startswith(".")
                or entry.name.endswith(IGNORED_SUFFIXES)
            ):
                continue
            st = entry.stat()
            if now - st.st_mtime < settle_seconds:
                continue
            path = Path(entry.path)
            found.append(LandingFile(path, folder, file_kind(path), st.st_size, st.st_mtime))
    return sorted(found, key=lambda f: (f.mtime, f.folder, f.path.name))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _free_name(target_dir: Path, name: str) -> Path:
    target = target_dir / name
    n = 1
    while target.exists():
        stem, dot, suffix = name.partition(".")
        target = target_dir / f"{stem}.{n}{dot}{suffix}"
        n += 1
    return target


def placed_as(target_dir: Path, name: str) -> list[Path]:
    """The files of ``target_dir`` that a move of ``name`` may have made (``_free_name``:
    the name itself, or ``<stem>.<n>.<rest>`` when it was taken)."""
    stem, dot, suffix = name.partition(".")
    pattern = re.compile(rf"{re.escape(stem)}(\.\d+)?{re.escape(dot + suffix)}")
    if not target_dir.is_dir():
        return []
    return sorted(p for p in target_dir.glob(f"{glob.escape(stem)}*") if pattern.fullmatch(p.name))


def archive(file: LandingFile, data_dir: Path) -> Path:
    """Move a loaded file to ``archive/<folder>/``."""
    target_dir = data_dir / "archive" / file.folder
    target_dir.mkdir(parents=True, exist_ok=True)
    target = _free_name(target_dir, file.path.name)
    os.replace(file.path, target)
    return target


def quarantine(file: LandingFile, data_dir: Path, why: dict[str, object]) -> Path:
    """Move a rejected or duplicate file to ``quarantine/<folder>/`` with a JSON sidecar
    ``<name>.reason.json`` (file, segment or line, the segment's shape, rule, reason;
    never a value of the file: InputError)."""
    target_dir = data_dir / "quarantine" / file.folder
    target_dir.mkdir(parents=True, exist_ok=True)
    target = _free_name(target_dir, file.path.name)
    sidecar = target.with_name(target.name + ".reason.json")
    tmp = sidecar.with_name(sidecar.name + ".tmp")
    tmp.write_text(json.dumps(why, indent=2, default=str) + "\n")
    os.replace(tmp, sidecar)
    os.replace(file.path, target)
    return target
