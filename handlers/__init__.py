"""One module per job kind; importing this package registers them all (daemon.registry.REGISTRY)."""

from handlers import sleep, staging_blb, staging_tracking, upload  # noqa: F401
