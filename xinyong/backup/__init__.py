"""Backup, verification and restore of the whole database (``xinyong backup`` / ``xinyong restore``)."""
