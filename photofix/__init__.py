"""PhotoFix: restoration of scanned photographs."""

__version__ = "0.1.0"
