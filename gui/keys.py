"""Who owns a key: the window's one-key shortcuts, or the control that has the focus.

TrainScope is driven from the keyboard in front of a class (Space pauses, → steps, ↑/↓ double or
halve the learning rate), so those shortcuts live on the window and work whatever has the focus
(a slider, a button, a chart). The one exception is a key that the focused control needs to do
its own job:

* Text fields keep everything typed into them and ←/→ (Qt already keeps printable keys and
  cursor keys for them, so typing "r" or a space never resets or pauses); ↑/↓, which a
  one-line field has no use for, still double or halve the learning rate.
* Spin boxes keep their arrow keys too: ↑/↓ in the momentum box step the momentum.
* Sliders and combo boxes keep their arrow keys too, but a click does not give them the focus
  (they take it only from Tab). So after dragging a slider with the mouse, → still steps the
  run; a keyboard user who tabs onto a slider moves it with the arrows as usual.
* Esc takes the focus away from any control, giving the arrow keys back to the window.

Space, R and the Ctrl+= / Ctrl+- / Ctrl+0 size keys always reach the window (except while
typing in a text field, where R and Space are text).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractSlider, QAbstractSpinBox, QComboBox, QWidget

NAVIGATION_KEYS = frozenset(
    {
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_PageUp,
        Qt.Key.Key_PageDown,
        Qt.Key.Key_Home,
        Qt.Key.Key_End,
    }
)
EDITOR_TYPES = (QAbstractSlider, QAbstractSpinBox, QComboBox)


class FocusedControlKeepsArrows(QObject):
    """Event filter: a focused editor claims its navigation keys before shortcuts see them.

    Qt asks the focus widget first with a ShortcutOverride event; accepting it means "this key
    is mine" and the window's shortcut does not fire.
    """

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            plain = (
                event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
                == Qt.KeyboardModifier.NoModifier
            )
            if plain and event.key() in NAVIGATION_KEYS:
                event.accept()
                return True
        return False


def keep_arrows_in_editors(root: QWidget, key_filter: FocusedControlKeepsArrows) -> None:
    """Install ``key_filter`` on every editor under ``root``; sliders and combos take Tab focus only.

    Safe to call again after new controls were added (installing twice is a no-op in Qt).
    """
    for editor in root.findChildren(QWidget):
        if not isinstance(editor, EDITOR_TYPES):
            continue
        editor.installEventFilter(key_filter)
        if isinstance(editor, (QAbstractSlider, QComboBox)):
            editor.setFocusPolicy(Qt.FocusPolicy.TabFocus)
