from syncer.cli import entrypoint

entrypoint()
