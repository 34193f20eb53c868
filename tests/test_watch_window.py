"""``trainscope.watch`` in the window: a hand-written loop on a thread, the real window (offscreen)
on the other end of the real socket, steered through its own controls as a student would."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from torch import nn

from tests.gui.window_helpers import HANG_TIMEOUT_MS, open_window, pause, wait_for_run
from tests.offscreen import run_offscreen
from trainscope.engine import events as ev
from trainscope.engine.attach import AttachedRun, AttachedSession, WindowLink
from trainscope.engine.config import RunConfig
from trainscope.engine.live_loop import LiveLoop
from trainscope.engine.own_loop_run import NOT_OWNED, SCHEDULED_LR
from trainscope.gui.run_state import format_value

CLASSES = 3


def blobs(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    labels = np.arange(n) % CLASSES
    centres = np.random.default_rng(7).normal(0, 3, (CLASSES, 4))
    x = centres[labels] + np.random.default_rng(seed).normal(0, 0.5, (n, 4))
    return torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(labels)


class StudentLoop:
    """The student's own loop (their optimizer, their batches), ``live.step`` after each step."""

    def __init__(self, scheduler: bool = False) -> None:
        torch.manual_seed(0)
        self.model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 3))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=0.05, momentum=0.5)
        self.scheduler = (
            torch.optim.lr_scheduler.StepLR(self.optimizer, 5, 0.9) if scheduler else None
        )
        self.live = LiveLoop(self.model, self.optimizer, val=blobs(60, 1), eval_every=20)
        self.lr_by_step: dict[int, float] = {}
        self.ended = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        x, y = blobs(240, 0)
        try:
            while not self.live.should_stop:
                for start in range(0, len(y), 24):
                    xb, yb = x[start : start + 24], y[start : start + 24]
                    self.lr_by_step[self.live.step_count + 1] = self.optimizer.param_groups[0]["lr"]
                    logits = self.model(xb)
                    loss = F.cross_entropy(logits, yb)
                    self.optimizer.zero_grad()
                    loss.backward()
                    self.optimizer.step()
                    if self.scheduler is not None:
                        self.scheduler.step()
                    self.live.step(loss, outputs=logits, targets=yb)
                    if self.live.should_stop:
                        break
            self.live.close()
        finally:
            self.ended.set()


def watched_window(qtbot, tmp_path, loop: StudentLoop):
    """The window, connected over the socket ``trainscope.watch`` uses, to ``loop``."""
    first = AttachedRun(config=RunConfig(), new_run_refusal=NOT_OWNED["new_run"])
    link = WindowLink(loop.live, first, spawn=False)
    session, first = AttachedSession.connect(link.address, link.key)

    def sessions(_config, **_ignored):
        return session

    loop.thread.start()
    window = open_window(qtbot, tmp_path, config=first.config, session_factory=sessions)
    return window, link


@pytest.fixture
def one_torch_thread():
    """One torch thread for the student's loop: on a shared two-core machine it leaves the
    other core to the window."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def student(one_torch_thread):
    loop = StudentLoop()
    yield loop
    loop.live.should_stop = True


def test_the_windows_lr_lands_at_the_next_step_pause_blocks_and_closing_stops_the_loop(
    qtbot, tmp_path, student
):
    window, link = watched_window(qtbot, tmp_path, student)
    wait_for_run(qtbot, window, lambda: window.state.step >= 30)
    paused_at = pause(qtbot, window)
    assert student.live.paused
    held = student.live.step_count
    qtbot.wait(300)  # paused: the student's loop waits inside live.step
    assert student.live.step_count == held == paused_at
    field = window.controls.lr_field
    field.clear()
    qtbot.keyClicks(field, "0.01")
    qtbot.keyClick(field, Qt.Key_Return)
    qtbot.mouseClick(window.controls.step_button, Qt.LeftButton)
    wait_for_run(qtbot, window, lambda: window.state.step == paused_at + 1)
    assert student.lr_by_step[paused_at] == 0.05
    assert student.lr_by_step[paused_at + 1] == 0.01  # the very next step used it
    assert "lr 0.05 → 0.01" in window.panels["loss"].markers.labels()
    qtbot.mouseClick(window.controls.pause_button, Qt.LeftButton)  # resume
    wait_for_run(qtbot, window, lambda: window.state.step >= paused_at + 20)
    window.close()  # closing the window ends the student's loop
    assert student.ended.wait(HANG_TIMEOUT_MS / 1000)
    assert student.live.should_stop
    link.close()


def test_what_a_loop_it_does_not_own_cannot_take_is_greyed_with_the_reason(
    qtbot, tmp_path, student
):
    window, link = watched_window(qtbot, tmp_path, student)
    controls = window.controls
    wait_for_run(qtbot, window, lambda: not controls.rewind_button.isEnabled())
    assert controls.rewind_button.toolTip() == NOT_OWNED["rewind"]
    assert not controls.reset_button.isEnabled()
    batch = controls.setting_widgets["batch_size"]
    assert not batch.isEnabled()
    assert batch.value() == 24
    optimizer = controls.setting_widgets["optimizer"]
    assert not optimizer.isEnabled()
    assert optimizer.currentText() == "sgd"
    assert controls.setting_widgets["momentum"].value() == 0.5  # the loop's own SGD momentum
    clip = controls.setting_widgets["grad_clip"]
    assert not clip.isEnabled()
    assert clip.text() == "your loop's"
    assert window.setup.apply_button.toolTip() == NOT_OWNED["new_run"]
    assert not window.setup.apply_button.isEnabled()
    assert not window.actions_by_name["experiment_kfold"].isEnabled()
    # The live settings it does take stay usable.
    assert controls.lr_field.isEnabled()
    assert controls.dropout_slider.isEnabled()
    assert "epoch" not in window.status.fields["epoch"].text()  # its epochs are its own
    # The insights measured inside TrainScope's own step say so instead of "waiting".
    for name, words in (
        ("layer_health", "your own loop"),
        ("boundary", "own training loop keeps its training rows"),
    ):
        panel = window.panels[name]
        panel.refresh(window.state)  # as when its tab is shown
        assert any(words in label.text() for label in panel.findChildren(QLabel)), name
    link.close()


def test_a_scheduler_driven_lr_greys_the_lr_control_and_shows_the_schedulers_value(
    qtbot, tmp_path, one_torch_thread
):
    loop = StudentLoop(scheduler=True)
    try:
        window, link = watched_window(qtbot, tmp_path, loop)
        controls = window.controls
        wait_for_run(qtbot, window, lambda: not controls.lr_slider.isEnabled())
        assert controls.lr_slider.toolTip() == SCHEDULED_LR
        wait_for_run(qtbot, window, lambda: window.state.step >= 30)
        assert not controls.request_setting("lr", 0.2)  # refused here, nothing sent
        assert controls.error_label.text() == SCHEDULED_LR
        assert window.state.train.last("lr") < 0.05  # the scheduler's decayed value...
        shown = lambda: controls.lr_field.text() == format_value(window.state.train.last("lr"))  # noqa: E731
        wait_for_run(qtbot, window, shown)  # ...is what the lr field says
        link.close()
    finally:
        loop.live.should_stop = True


def test_the_own_loop_example_runs_end_to_end_and_closing_the_window_ends_its_loop(tmp_path):
    example = Path(__file__).parent.parent / "examples" / "own_loop.py"
    result = run_offscreen(example, "--quit-after", "3", cwd=tmp_path)
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("stopped after "), result.stdout  # the window's closing stopped it
    steps = int(last.split()[2])
    assert 0 < steps < 300 * 9  # before the loop's own 300 epochs of 9 batches were done


def test_when_the_students_process_goes_the_window_stays_with_a_banner_and_its_curves(
    qtbot, tmp_path, student
):
    window, link = watched_window(qtbot, tmp_path, student)
    wait_for_run(qtbot, window, lambda: window.state.step >= 30)
    link.close()  # as the student's process dying closes its end of the socket
    qtbot.waitUntil(window.banner_bar.isVisible, timeout=HANG_TIMEOUT_MS)
    assert "your training process has ended or died" in window.banner.message()
    assert window.state.step >= 30  # everything shown so far is kept
    assert len(window.state.train) >= 30
    restart = window.banner.restart_button
    assert not restart.isEnabled()  # only the student's code can start their loop again
    assert restart.toolTip() == NOT_OWNED["new_run"]


def test_a_watched_run_is_recorded_replays_and_a_fork_says_it_needs_your_model(
    qtbot, tmp_path, student
):
    from trainscope.engine.errors import TrainScopeError
    from trainscope.engine.runs.fork import fork_config
    from trainscope.engine.runs.replay import ReplaySession
    from trainscope.gui.recording import RunLibrary

    library = RunLibrary(tmp_path / "runs")
    first = AttachedRun(config=RunConfig(own_model=True), new_run_refusal=NOT_OWNED["new_run"])
    link = WindowLink(student.live, first, spawn=False)
    session, first = AttachedSession.connect(link.address, link.key)
    student.thread.start()
    window = open_window(
        qtbot, tmp_path, config=first.config, session_factory=lambda _c, **_k: session, runs=library
    )
    wait_for_run(qtbot, window, lambda: window.state.step >= 40)
    link.close()  # the student's process goes: the recording is filed as interrupted
    qtbot.waitUntil(window.banner_bar.isVisible, timeout=HANG_TIMEOUT_MS)
    window.close()
    with library.open_store() as store:
        (run,) = store.list_runs()
        assert run.status == "interrupted"
        assert run.dataset == "your own training loop"
        assert store.run_config(run.id).own_model
        with pytest.raises(TrainScopeError, match="trained your own model, which only your code"):
            fork_config(store, run.id, 40)
        replay = ReplaySession(store, run.id, speed="max")  # replays like any recorded run
        replay.start()
        shown: list[int] = []

        def replayed_forty_steps() -> bool:
            shown.extend(len(e.steps) for e in replay.drain() if isinstance(e, ev.StepMetrics))
            return sum(shown) >= 40

        qtbot.waitUntil(replayed_forty_steps, timeout=HANG_TIMEOUT_MS)
        replay.close()
