"""One module per job kind; importing this package registers them all (daemon.registry.REGISTRY)."""

from handlers import sleep  # noqa: F401
