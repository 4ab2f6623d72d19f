"""The desktop app: the only package that imports PySide6 or pyqtgraph. A thin layer over the core."""
