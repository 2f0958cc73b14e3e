"""Widgets grouped by feature: ``plan/`` holds the calculator's form and results."""
