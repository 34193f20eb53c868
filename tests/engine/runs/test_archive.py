"""Run archives: a run travels between stores intact; a bad archive is one sentence, no harm."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import zipfile
from pathlib import Path

import pytest

from engine.runs.archive import import_archive, write_archive
from engine.runs.errors import RunFileError, RunStoreError
from engine.runs.export import export_run
from engine.runs.fork import fork_config
from engine.runs.store import RunStore
from tests.engine.runs.helpers import assert_events_same, rerecord


@pytest.fixture
def archive(recorded, tmp_path) -> Path:
    """An archive of the recorded run, with a real checkpoint inside."""
    _, _, live = recorded
    source = tmp_path / "source" / "runs.sqlite"
    run_id = rerecord(source, live, with_checkpoint=True, name="shared run")
    with RunStore(source) as store:
        store.set_note(run_id, "for my study group")
        return write_archive(store, run_id, tmp_path / "shared.trainscope.zip")


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rewrite(out: Path, members: dict[str, bytes], rehash: bool = True, **manifest_changes) -> Path:
    """A doctored copy; with ``rehash`` the manifest is made to match, as a careful forger would."""
    manifest = json.loads(members["manifest.json"])
    manifest.update(manifest_changes)
    if rehash:
        manifest["members"] = {
            name: hashlib.sha256(data).hexdigest()
            for name, data in members.items()
            if name != "manifest.json"
        }
    members = {**members, "manifest.json": json.dumps(manifest).encode()}
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out


def test_a_run_travels_to_another_store_intact(archive, recorded, tmp_path):
    _, _, live = recorded
    with RunStore(tmp_path / "mine" / "runs.sqlite") as store:
        run_id = import_archive(store, archive)
        info = store.get_run(run_id)
        assert_events_same(store.load_events(run_id), live)
        assert (info.name, info.note, info.status, info.seed) == (
            "shared run",
            "for my study group",
            "completed",
            7,
        )
        assert info.final["val_accuracy"] is not None and info.steps == 110
        _, checkpoint = fork_config(store, run_id, 200, {"lr": 0.05})
        assert checkpoint.name == "step_120.pt"
        export_run(store, run_id, "weights", tmp_path / "model.pt")
        with pytest.raises(RunStoreError, match=f"already in your store as run {run_id}"):
            import_archive(store, archive)


#: Each doctored archive, and words its one-sentence refusal must contain.
WORDS = {
    "not_a_zip": "not a TrainScope run archive",
    "truncated": "not a TrainScope run archive or is damaged",
    "checksum": "altered or damaged: arrays.bin does not match its checksum",
    "newer": "newer TrainScope",
    "format": "unknown format",
    "extra": "not part of a run archive",
    "missing": "events.json is missing",
    "dtype": "forbidden type",
    "weights": "cannot be read safely",
    "config": "not valid: learning rate",
    "no_manifest": "has no manifest.json",
    "nowhere": "does not exist",
}


def _doctored_archives(archive: Path) -> dict[str, tuple[Path, str]]:
    """Every way an archive can be wrong, each with the words its one sentence must contain."""
    members = _members(archive)
    events = json.loads(members["events.json"])
    metrics = next(row for row in events if row[2] == "StepMetrics")
    metrics[5] = metrics[5].replace("<f8", "|O")  # a forbidden (object) array type
    exploit = pickle.dumps(
        type("X", (), {"__reduce__": lambda self: (os.system, ("touch pwned",))})()
    )
    bad_config = members["run.json"].replace(b'"lr": 0.001', b'"lr": -5')
    data = archive.read_bytes()
    folder = archive.parent
    (folder / "not_a_zip.zip").write_bytes(b"\x89PNG not a zip at all")
    (folder / "truncated.zip").write_bytes(data[: len(data) // 2])
    doctored = {
        "checksum": ({**members, "arrays.bin": b"\0" * len(members["arrays.bin"])}, False, {}),
        "newer": (members, True, {"archive_version": 99}),
        "format": (members, True, {"format": "zip-of-cats"}),
        "extra": ({**members, "run.py": b"print('hi')"}, True, {}),
        "missing": ({k: v for k, v in members.items() if k != "events.json"}, True, {}),
        "dtype": ({**members, "events.json": json.dumps(events).encode()}, True, {}),
        "weights": ({**members, "weights.pt": exploit}, True, {}),
        "config": ({**members, "run.json": bad_config}, True, {}),
    }
    paths = {
        name: _rewrite(folder / f"{name}.zip", content, rehash, **changes)
        for name, (content, rehash, changes) in doctored.items()
    }
    with zipfile.ZipFile(folder / "no_manifest.zip", "w") as bare:
        for name, value in members.items():
            if name != "manifest.json":
                bare.writestr(name, value)
    return {name: (paths.get(name, folder / f"{name}.zip"), text) for name, text in WORDS.items()}


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_every_bad_archive_is_one_sentence_and_changes_nothing(archive, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with RunStore(tmp_path / "mine" / "runs.sqlite") as store:
        for case, (path, words) in _doctored_archives(archive).items():
            with pytest.raises(RunFileError) as caught:
                import_archive(store, path)
            message = str(caught.value)
            assert words in message, f"{case}: {message}"
            assert "\n" not in message and message.count(". ") == 0, f"{case}: {message}"
        assert store.list_runs() == []
        assert not (tmp_path / "mine" / "checkpoints").exists() or not any(
            (tmp_path / "mine" / "checkpoints").iterdir()
        )
    assert not (tmp_path / "pwned").exists()
