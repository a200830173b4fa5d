"""One module per job kind; importing this package registers them all (daemon.registry.REGISTRY)."""

from handlers import etl, schema, sleep, staging_blb, staging_blb_update, staging_tracking, upload, validate  # noqa: F401
