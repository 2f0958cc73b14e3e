"""Screens by role: the calculator (a mode), and the modals it opens."""
