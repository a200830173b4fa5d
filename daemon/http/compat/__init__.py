"""The old BenchSight API (FastAPI, ronniepinnell/benchsight): its request shapes on its paths, as thin
adapters. Each route translates the old request into our params model and calls the same job service as our
own routes (daemon.http.jobs), so there is one way to start each job; the answer is our job (JobOut), which
carries every field of the old JobResponse with its type. README: "Coming from the old BenchSight API"."""

from daemon.http.compat import etl, staging, upload

ROUTE_MODULES = (etl, upload, staging)
