"""Run archives: one file that carries a run from one person's store into another's.

A zip holding ``manifest.json`` (format, versions, and the SHA-256 of every other member),
``run.json`` (the run's row), ``events.json`` (each event's encoded row), ``arrays.bin`` (the
events' array bytes) and optionally ``weights.pt`` (the run's last checkpoint). Import trusts
nothing: every member must be listed and match its hash, every event must decode through the
pickle-free codec, weights load with ``weights_only=True`` — and any failure is one sentence
(``RunFileError``) with nothing written to the store. Export holds itself to the same rule: a
checkpoint that the safe loader refuses is never packed, and no archive file is left behind.

Memory stays flat while a hostile archive is refused: a member's declared size is checked
before a byte of it is read, and members are read in bounded chunks that are counted, so a
header that lies about the size is caught at the declared size, not after filling memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

from trainscope.engine.runs.checkpoints import list_checkpoints
from trainscope.engine.runs.codec import decode_event
from trainscope.engine.runs.configs import config_from_dict, library_versions
from trainscope.engine.runs.errors import RunFileError, RunStoreError
from trainscope.engine.runs.outcome import STATUSES, RunOutcome
from trainscope.engine.runs.paths import checkpoint_folder
from trainscope.engine.runs.schema import SCHEMA_VERSION
from trainscope.engine.runs.store import EventRow, RunStore

FORMAT = "trainscope-run"
ARCHIVE_VERSION = 1
REQUIRED = ("run.json", "events.json", "arrays.bin")
WEIGHTS = "weights.pt"
MAX_MEMBER_BYTES = 1 << 30  # refuse members above 1 GiB instead of filling memory
READ_CHUNK_BYTES = 1 << 20
RUN_FIELDS = (
    "uid",
    "name",
    "note",
    "status",
    "created",
    "ended",
    "scenario",
    "dataset",
    "seed",
    "device",
    "config",
    "versions",
    "steps",
    "test_opened_at",
    "forked_from",
)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----- writing -------------------------------------------------------------------------------
def write_archive(
    store: RunStore, run_id: int, out: str | os.PathLike[str], include_weights: bool = True
) -> Path:
    """Pack run ``run_id`` (and its last checkpoint, if any) into one ``.zip`` file."""
    out = Path(out)
    info = store.get_run(run_id)
    run = {name: getattr(info, name) for name in RUN_FIELDS}
    rows, blob = [], bytearray()
    for row in store.iter_event_rows(run_id):
        data = row.arrays or b""
        rows.append(
            [row.seq, row.t, row.kind, row.step, row.last_step, row.payload, len(blob), len(data)]
        )
        blob.extend(data)
    members = {
        "run.json": json.dumps(run, indent=1).encode(),
        "events.json": json.dumps(rows, separators=(",", ":")).encode(),
        "arrays.bin": bytes(blob),
    }
    saved = list_checkpoints(store.checkpoint_dir(run_id)) if include_weights else []
    if saved:
        members[WEIGHTS] = _checked_weights(saved[-1][1])
    manifest = _manifest_for(members)
    partial = out.with_name(f".{out.name}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("manifest.json", json.dumps(manifest, indent=1))
            for name, data in members.items():
                archive.writestr(name, data)
        os.replace(partial, out)
    except OSError as error:
        raise RunFileError(
            f"cannot write the run archive {out} ({error.strerror or error})"
        ) from None
    finally:
        partial.unlink(missing_ok=True)  # gone after the rename; a half-written one goes too
    return out


def _checked_weights(path: Path) -> bytes:
    """The checkpoint's bytes, once the loader import uses (``weights_only=True``) accepts them.

    Import would refuse a checkpoint holding anything but tensors and plain data, so packing
    one would only hand someone a file that cannot be opened — or, read by a careless tool,
    one that runs code. Refusing here says so to the person who can fix it.
    """
    from trainscope.engine.runs.checkpoints import read_checkpoint

    return read_checkpoint(path)[0]


def _manifest_for(members: dict[str, bytes]) -> dict[str, Any]:
    """What the archive is, who wrote it, and the SHA-256 of every member."""
    return {
        "format": FORMAT,
        "archive_version": ARCHIVE_VERSION,
        "schema_version": SCHEMA_VERSION,
        "exported_at": time.time(),
        "exported_by": library_versions(),
        "members": {name: _sha256(data) for name, data in members.items()},
    }


# ----- reading -------------------------------------------------------------------------------
def import_archive(store: RunStore, path: str | os.PathLike[str]) -> int:
    """Validate an archive completely, then add its run to ``store``; return the new run id."""
    path = Path(path)
    try:
        manifest, members = _read_members(path)
        return _import(store, path, manifest, members)
    except (RunFileError, RunStoreError):
        raise
    except Exception as error:  # the boundary: a hostile file must not crash the app
        raise RunFileError(f"{path} is not a valid TrainScope run archive ({error})") from None


def _read_members(path: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The manifest and every member, each checked against its SHA-256."""
    if not path.is_file():
        raise RunFileError(f"the run archive {path} does not exist")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "manifest.json" not in names:
                raise RunFileError(
                    f"{path} is not a TrainScope run archive (it has no manifest.json)"
                )
            manifest = _manifest(path, _read(archive, "manifest.json")[0])
            listed = manifest["members"]
            _check_names(path, names - {"manifest.json"}, set(listed))
            for name in listed:  # every size first: refuse before reading anything big
                _declared_size(archive, name)
            members = {}
            for name in listed:
                members[name], digest = _read(archive, name)
                if digest != listed[name]:
                    raise RunFileError(
                        f"{path} has been altered or damaged: {name} does not match its checksum"
                    )
    except zipfile.BadZipFile as error:
        raise RunFileError(
            f"{path} is not a TrainScope run archive or is damaged ({error})"
        ) from None
    return manifest, members


def _declared_size(archive: zipfile.ZipFile, name: str, limit: int | None = None) -> int:
    """A member's size as its header states it, refused above ``limit`` before it is read."""
    limit = MAX_MEMBER_BYTES if limit is None else limit
    size = archive.getinfo(name).file_size
    if size > limit:
        raise RunFileError(
            f"{name} in the run archive is larger than {_size_text(limit)}; refusing to load it"
        )
    return size


def _read(archive: zipfile.ZipFile, name: str, limit: int | None = None) -> tuple[bytes, str]:
    """(bytes, SHA-256) of a member, read in chunks that are counted against its declared size.

    zipfile itself stops at the declared size; counting here as well keeps the bound whatever
    the zip reader does, so a member can never cost more memory than its (capped) header says.
    """
    declared = _declared_size(archive, name, limit)
    data, digest = bytearray(), hashlib.sha256()
    with archive.open(name) as member:
        while chunk := member.read(min(READ_CHUNK_BYTES, declared - len(data) + 1)):
            if len(data) + len(chunk) > declared:
                raise RunFileError(
                    f"{name} in the run archive is larger than its header says; it is damaged"
                )
            data += chunk
            digest.update(chunk)
    return bytes(data), digest.hexdigest()


def _size_text(size: int) -> str:
    if size >= 1 << 30:
        return f"{size / (1 << 30):g} GiB"
    if size >= 1 << 20:
        return f"{size / (1 << 20):g} MiB"
    return f"{size:,} bytes"


def _manifest(path: Path, data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data)
    except ValueError:
        raise RunFileError(f"{path} has a damaged manifest.json (not valid JSON)") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunFileError(f"{path} is not a TrainScope run archive (unknown format)")
    version = manifest.get("archive_version")
    if not isinstance(version, int) or version < 1:
        raise RunFileError(f"{path} has a damaged manifest.json (no archive version)")
    if version > ARCHIVE_VERSION:
        raise RunFileError(
            f"{path} was written by a newer TrainScope (archive version {version}; this one "
            f"reads up to {ARCHIVE_VERSION}); update TrainScope to import it"
        )
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
        isinstance(name, str) and isinstance(digest, str) for name, digest in members.items()
    ):
        raise RunFileError(f"{path} has a damaged manifest.json (no member checksums)")
    return manifest


def _check_names(path: Path, present: set[str], listed: set[str]) -> None:
    missing = sorted((listed | set(REQUIRED)) - present)
    if missing:
        raise RunFileError(f"{path} is incomplete: {missing[0]} is missing")
    extra = sorted(present - listed)
    if extra:
        raise RunFileError(f"{path} contains {extra[0]}, which its manifest does not list")
    unknown = sorted(listed - set(REQUIRED) - {WEIGHTS})
    if unknown:
        raise RunFileError(f"{path} contains {unknown[0]}, which is not part of a run archive")


def _import(store: RunStore, path: Path, manifest: dict, members: dict[str, bytes]) -> int:
    run = _run_fields(path, members["run.json"])
    existing = store.find_uid(run["uid"])
    if existing is not None:
        raise RunStoreError(f"this run is already in your store as run {existing}")
    rows, outcome = _event_rows(path, members["events.json"], members["arrays.bin"])
    run.update(
        steps=outcome.steps,
        final=json.dumps(outcome.final()),
        test_opened_at=outcome.test_opened_at,
        heartbeat=run["created"],
        status="interrupted" if run["status"] == "running" else run["status"],
    )
    folder = checkpoint_folder(store.runs_dir, run["uid"])
    if WEIGHTS in members:
        _place_weights(path, members[WEIGHTS], folder)
    try:
        return store.add_imported_run(run, rows)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _run_fields(path: Path, data: bytes) -> dict[str, Any]:
    """run.json checked field by field; config validated as a real ``RunConfig``."""
    try:
        run = json.loads(data)
    except ValueError:
        raise RunFileError(f"{path} has a damaged run.json (not valid JSON)") from None
    if not isinstance(run, dict) or not set(RUN_FIELDS) <= set(run):
        raise RunFileError(f"{path} has a damaged run.json (fields are missing)")
    text = ("uid", "name", "status", "dataset")
    if not all(isinstance(run[name], str) and run[name] for name in text):
        raise RunFileError(f"{path} has a damaged run.json (a name or status is not text)")
    if run["status"] not in STATUSES or not isinstance(run["created"], int | float):
        raise RunFileError(f"{path} has a damaged run.json (unknown status or date)")
    if not run["uid"].isalnum():
        raise RunFileError(f"{path} has a damaged run.json (a malformed run id)")
    config_from_dict(run["config"])  # raises one sentence when the settings are not valid
    fields = {name: run[name] for name in RUN_FIELDS}
    fields["note"] = str(fields["note"] or "")
    fields["seed"] = int(fields["seed"])
    for name in ("config", "versions", "forked_from"):
        fields[name] = json.dumps(fields[name]) if fields[name] is not None else None
    fields["versions"] = fields["versions"] or "{}"
    return fields


def _event_rows(path: Path, data: bytes, blob: bytes) -> tuple[list[EventRow], RunOutcome]:
    """Every event row, bounds-checked and decoded once (so a bad one is caught now)."""
    try:
        entries = json.loads(data)
    except ValueError:
        raise RunFileError(f"{path} has a damaged events.json (not valid JSON)") from None
    if not isinstance(entries, list):
        raise RunFileError(f"{path} has a damaged events.json (not a list of events)")
    rows, outcome, previous = [], RunOutcome(), -1
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 8):
            raise RunFileError(f"{path} has a damaged events.json (a malformed event row)")
        seq, t, kind, step, last_step, payload, start, size = entry
        steps_ok = all(value is None or type(value) is int for value in (step, last_step))
        if not (steps_ok and isinstance(kind, str) and isinstance(t, int | float)):
            raise RunFileError(f"{path} has a damaged events.json (a malformed event row)")
        if not (isinstance(seq, int) and seq > previous and isinstance(payload, str)):
            raise RunFileError(f"{path} has a damaged events.json (events out of order)")
        if not (
            isinstance(start, int)
            and isinstance(size, int)
            and 0 <= start <= start + size <= len(blob)
        ):
            raise RunFileError(f"{path} has a damaged events.json (array data out of range)")
        arrays = blob[start : start + size]
        outcome.update(decode_event(payload, arrays))
        rows.append(EventRow(seq, float(t), kind, step, last_step, payload, arrays))
        previous = seq
    return rows, outcome


def _place_weights(path: Path, data: bytes, folder: Path) -> None:
    """Check the checkpoint loads safely, then put it where fork and weight export look."""
    from trainscope.engine.runs.checkpoints import checkpoint_file, load_checkpoint_bytes

    checkpoint = load_checkpoint_bytes(data, f"the weights in {path}")
    target = checkpoint_file(folder, checkpoint.step)
    folder.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.with_suffix(".json").write_text(json.dumps(checkpoint.meta))
