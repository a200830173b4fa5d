"""The REST API: every route is an insert into, or a read of, job_requests; the daemon does the work."""

from daemon.http.app import create_app, serve

__all__ = ["create_app", "serve"]
