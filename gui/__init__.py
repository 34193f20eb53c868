"""TrainScope's window side: PySide6 + pyqtgraph, never torch (see ARCHITECTURE.md)."""
