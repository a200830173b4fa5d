"""One module per job kind; importing this package registers them all (daemon.registry.REGISTRY)."""

from handlers import (  # noqa: F401
    etl, ml_predict, ml_train, schema, sleep, staging_blb, staging_blb_update, staging_tracking, upload, validate,
)
