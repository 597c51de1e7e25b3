"""syncer: GitOps for care flows (Sandbox -> Git -> Production, drift flagged, never overwritten)."""

__version__ = "0.1.0"
