"""The Batch screen's widgets: choosing the prescription file (a tree of folders and .csv
files, and completion of a typed path)."""

from compound.tui.widgets.batch.files import CsvPathSuggester, CsvTree, complete_path

__all__ = ["CsvPathSuggester", "CsvTree", "complete_path"]
