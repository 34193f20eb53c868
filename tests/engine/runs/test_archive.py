"""Run archives: a run travels between stores intact; a bad archive is one sentence, no harm."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import zipfile
from pathlib import Path

import pytest

from tests.engine.runs.helpers import assert_events_same, rerecord
from trainscope.engine.runs.archive import import_archive, write_archive
from trainscope.engine.runs.errors import RunFileError, RunStoreError
from trainscope.engine.runs.export import export_run
from trainscope.engine.runs.fork import fork_config
from trainscope.engine.runs.store import RunStore


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
        assert info.final["val_accuracy"] is not None
        assert info.steps == 110
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
            assert "\n" not in message, f"{case}: {message}"
            assert message.count(". ") == 0, f"{case}: {message}"
        assert store.list_runs() == []
        assert not (tmp_path / "mine" / "checkpoints").exists() or not any(
            (tmp_path / "mine" / "checkpoints").iterdir()
        )
    assert not (tmp_path / "pwned").exists()


class Gadget:
    """Not a tensor and not plain data: the safe loader refuses to rebuild it."""

    def __init__(self) -> None:
        self.armed = True


def test_exporting_a_checkpoint_that_is_not_plain_tensors_is_refused_and_writes_nothing(
    recorded, tmp_path
):
    import torch

    _, _, live = recorded
    source = tmp_path / "source" / "runs.sqlite"
    run_id = rerecord(source, live, name="odd weights")
    with RunStore(source) as store:
        folder = store.checkpoint_dir(run_id)
        folder.mkdir(parents=True)
        meta = json.dumps({"step": 7, "optimizer_name": "sgd", "settings": {}})
        state = {"model_state": {"w": torch.zeros(2)}, "optimizer_state": {}, "meta": meta}
        torch.save({**state, "gadget": Gadget()}, folder / "step_7.pt")
        (folder / "step_7.json").write_text(meta)
        out = tmp_path / "out" / "odd.trainscope.zip"
        with pytest.raises(RunFileError) as caught:
            export_run(store, run_id, "archive", out)
    message = str(caught.value)
    assert "cannot be read safely" in message
    assert "step_7.pt" in message
    assert "\n" not in message
    assert message.count(". ") == 0
    assert not out.exists()
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


# ----- oversized members: refused with memory staying flat ----------------------------------
MEASURE_IMPORT = """
import resource, sys
from trainscope.engine.runs.archive import import_archive
from trainscope.engine.runs.errors import RunFileError
from trainscope.engine.runs.store import RunStore

store = RunStore(sys.argv[2])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    import_archive(store, sys.argv[1])
    print("imported")
except RunFileError as error:
    print("refused:", error)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def _peak_growth_on_import(archive: Path, store: Path) -> tuple[str, int]:
    """(the import's one line, how far the peak resident memory rose during it, in KiB)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", MEASURE_IMPORT, str(archive), str(store)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=240,
        check=True,
    )
    message, growth = done.stdout.strip().splitlines()[-2:]
    return message, int(growth)


def _archive_with(out: Path, arrays_bin_writer) -> Path:
    """A well-formed manifest and run members around an arrays.bin written by the caller."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        members = {"run.json": b"{}", "events.json": b"[]"}
        manifest = {
            "format": "trainscope-run",
            "archive_version": 1,
            "members": {
                **{name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
                "arrays.bin": "0" * 64,  # never reached: the member is refused while read
            },
        }
        archive.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            archive.writestr(name, data)
        with archive.open("arrays.bin", "w") as member:
            arrays_bin_writer(member)
    return out


def _zeros(mebibytes: int):
    def write(member) -> None:
        chunk = bytes(1 << 20)
        for _ in range(mebibytes):
            member.write(chunk)

    return write


def test_a_member_over_one_gib_is_refused_before_it_is_read(tmp_path):
    # 1 GiB + 1 MiB of zeros, deflated: a 5 MB file whose member would fill memory if read.
    archive = _archive_with(tmp_path / "huge.zip", _zeros(1025))
    assert archive.stat().st_size < 16 << 20
    message, growth_kib = _peak_growth_on_import(archive, tmp_path / "mine" / "runs.sqlite")
    assert "arrays.bin in the run archive is larger than 1 GiB" in message
    assert growth_kib < 32 * 1024, f"peak memory rose {growth_kib / 1024:.0f} MiB"


def test_a_member_larger_than_its_header_says_is_refused_with_memory_flat(tmp_path):
    archive = _archive_with(tmp_path / "liar.zip", _zeros(256))
    data = bytearray(archive.read_bytes())
    entry = data.rindex(b"PK\x01\x02")  # arrays.bin is the last central-directory entry
    assert data[entry + 46 : entry + 56] == b"arrays.bin"
    data[entry + 24 : entry + 28] = (1000).to_bytes(4, "little")  # "1,000 bytes, honest"
    archive.write_bytes(bytes(data))
    message, growth_kib = _peak_growth_on_import(archive, tmp_path / "mine" / "runs.sqlite")
    assert message.startswith("refused:")
    assert "arrays.bin" in message
    assert "damaged" in message
    assert growth_kib < 32 * 1024, f"peak memory rose {growth_kib / 1024:.0f} MiB"


def test_a_smaller_member_cap_refuses_what_is_over_it(archive, tmp_path, monkeypatch):
    import trainscope.engine.runs.archive as archives

    monkeypatch.setattr(archives, "MAX_MEMBER_BYTES", 64)
    with RunStore(tmp_path / "mine" / "runs.sqlite") as store:
        with pytest.raises(RunFileError, match="larger than 64 bytes; refusing to load it"):
            import_archive(store, archive)
        assert store.list_runs() == []
