"""A stand-in for Supabase Realtime, faithful to what the `realtime` client sees, driven by a real PostgreSQL.

Nobody can run Supabase's own Realtime server here, so tests of daemon/realtime_feed.py talk to this: a
websocket server speaking the Phoenix V1 JSON protocol at /realtime/v1/websocket?apikey=...&vsn=1.0.0.

- `heartbeat` on topic `phoenix` gets a `phx_reply` ok with the same ref.
- `phx_join` on `realtime:<name>` gets a `phx_reply` ok echoing each postgres_changes binding with a stable
  non-zero integer id; once the subscription really streams (after `subscribe_delay`, like Supabase's 1-3 s)
  a `system` "Subscribed to PostgreSQL" frame follows. Changes committed before that are not sent.
- Changes come from the database itself: the stand-in LISTENs on job_requests (the migrations' trigger
  announces each job that becomes pending), re-selects the row and pushes a `postgres_changes` INSERT frame to
  every streaming subscription on that table. A row whose updated_at differs from created_at is a retry (an
  UPDATE), which INSERT subscriptions do not get. Changes made while a client is away are never replayed.
- `phx_leave` gets a `phx_reply` ok and ends the subscription.
- With `apikey` given, a handshake with another apikey gets HTTP 401 and a join with another access_token an
  error reply.

Faults, on demand: close_all(code), drop_tcp(), blackhole(), outage(seconds) (drops everyone and answers
handshakes with HTTP 503 until it ends), send_system_error(), ignore_joins = True, poison_next(kind); and at
construction subscribe_delay (seconds between the join reply and streaming) and announce_streaming=False (no
"Subscribed to PostgreSQL" message).

Not modelled: filters (bindings match on schema, table and event only), RLS and JWT checks beyond equality
with `apikey`, presence and broadcast, UPDATE/DELETE beyond a retry showing up as UPDATE, and the Phoenix V2
array serializer.
"""

from __future__ import annotations

import asyncio
import json
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

PATH = "/realtime/v1/websocket"
NOTIFY_CHANNEL = "job_requests"
POISON_KINDS = ("invalid", "record", "choke", "oversize")


@dataclass
class Subscription:
    topic: str
    bindings: list[dict[str, Any]]  # as echoed, each with its id
    streaming: bool = False
    starter: asyncio.Task | None = None


@dataclass
class Client:
    ws: ServerConnection
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    frozen: bool = False  # black-holed: reads nothing, sends nothing, answers no pings


def binding_id(binding: dict[str, Any]) -> int:
    """Stable non-zero id for a binding, as Supabase derives it from the subscription parameters."""
    key = json.dumps({k: binding.get(k) for k in ("event", "schema", "table", "filter")}, sort_keys=True)
    return zlib.crc32(key.encode()) % 2_000_000_000 + 1


class RealtimeStandin:
    """Use as `async with RealtimeStandin(db_url) as standin:`; `standin.url` is the SUPABASE_URL to give."""

    def __init__(self, db_url: str, *, apikey: str | None = None, subscribe_delay: float = 0.0,
                 announce_streaming: bool = True) -> None:
        self.db_url = db_url
        self.apikey = apikey
        self.subscribe_delay = subscribe_delay
        self.announce_streaming = announce_streaming  # False: no "Subscribed to PostgreSQL" (older servers)
        self.ignore_joins = False
        self.clients: list[Client] = []
        self.stats: Counter[str] = Counter()  # connections, joins, changes_sent, rejected, ...
        self._poison: list[str] = []
        self._outage_until = 0.0
        self._server: Server | None = None
        self._db: asyncpg.Connection | None = None
        self._notified: asyncio.Queue[str] = asyncio.Queue()
        self._pump: asyncio.Task | None = None
        self._columns: list[dict[str, str]] = []
        self.streaming = asyncio.Condition()  # notified whenever a subscription starts streaming

    # ---- lifecycle ------------------------------------------------------------------------------------

    async def __aenter__(self) -> RealtimeStandin:
        self._db = await asyncpg.connect(self.db_url)
        self._columns = [{"name": r["attname"], "type": r["typname"]} for r in await self._db.fetch(
            """select a.attname, t.typname from pg_attribute a join pg_type t on t.oid = a.atttypid
               where a.attrelid = 'public.job_requests'::regclass and a.attnum > 0 and not a.attisdropped
               order by a.attnum""")]
        await self._db.add_listener(NOTIFY_CHANNEL, lambda _c, _pid, _ch, payload: self._notified.put_nowait(payload))
        self._pump = asyncio.create_task(self._pump_changes())
        self._server = await serve(self._serve, "127.0.0.1", 0, process_request=self._handshake)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.drop_tcp()
        if self._pump:
            self._pump.cancel()
        if self._server:
            self._server.close()
            await self._server.wait_closed()
        if self._db:
            await self._db.close()

    @property
    def url(self) -> str:
        """The project URL a client is given (SUPABASE_URL); the client appends /realtime/v1/websocket."""
        assert self._server is not None
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return f"http://{host}:{port}"

    def streaming_count(self) -> int:
        return sum(s.streaming for c in self.clients for s in c.subscriptions.values())

    async def wait_streaming(self, count: int = 1, timeout: float = 10.0) -> None:
        """Until at least `count` subscriptions stream changes (tests wait for this, never sleep)."""
        async with self.streaming:
            await asyncio.wait_for(self.streaming.wait_for(lambda: self.streaming_count() >= count), timeout)

    # ---- faults ---------------------------------------------------------------------------------------

    async def close_all(self, code: int = 1000, reason: str = "") -> None:
        """Close every connection with a websocket close frame (1000 normal, 1011 server error, ...)."""
        await asyncio.gather(*(c.ws.close(code, reason) for c in list(self.clients)), return_exceptions=True)

    def drop_tcp(self) -> None:
        """Cut every connection without a close frame, as a dead load balancer or network would."""
        for client in list(self.clients):
            for sub in client.subscriptions.values():
                sub.streaming = False
            client.ws.transport.abort()

    def blackhole(self) -> None:
        """Every current connection goes silent without closing (a dead NAT or network path): nothing is
        read, sent or answered, websocket pings included."""
        for client in list(self.clients):
            client.frozen = True
            client.ws.transport.pause_reading()

    def outage(self, seconds: float) -> None:
        """Drop everyone and refuse handshakes (HTTP 503) for `seconds`."""
        self._outage_until = asyncio.get_running_loop().time() + seconds
        self.drop_tcp()

    @property
    def in_outage(self) -> bool:
        return asyncio.get_running_loop().time() < self._outage_until

    async def send_system_error(self, message: str = "Error: replication slot is not available") -> None:
        """A postgres_changes `system` error on every subscription, which then stops streaming until rejoined."""
        for client in list(self.clients):
            for sub in list(client.subscriptions.values()):
                sub.streaming = False
                await self._send(client, {
                    "topic": sub.topic, "event": "system", "ref": None,
                    "payload": {"channel": sub.topic.removeprefix("realtime:"), "extension": "postgres_changes",
                                "message": message, "status": "error"}})

    def poison_next(self, kind: str = "invalid") -> None:
        """Send the next change as a bad frame: 'invalid' fails the client's validation (dropped with an error
        log), 'record' is valid but carries a record no callback expects, 'choke' is a presence_state frame the
        client validates and then crashes on (its listen task dies silently: a presence meta without phx_ref),
        'oversize' exceeds the 1 MiB frame limit (the client closes the connection)."""
        if kind not in POISON_KINDS:
            raise ValueError(f"poison kind {kind!r}: use one of {POISON_KINDS}")
        self._poison.append(kind)

    # ---- protocol -------------------------------------------------------------------------------------

    def _handshake(self, connection: ServerConnection, request: Request) -> Response | None:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query)
        if self.in_outage:
            self.stats["rejected"] += 1
            return connection.respond(503, "Service Unavailable\n")
        if parts.path != PATH:
            return connection.respond(404, "Not Found\n")
        if query.get("vsn") != ["1.0.0"] or not query.get("apikey"):
            return connection.respond(400, "apikey and vsn=1.0.0 are required\n")
        if self.apikey is not None and query["apikey"] != [self.apikey]:
            return connection.respond(401, "invalid apikey\n")
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        client = Client(ws)
        self.clients.append(client)
        self.stats["connections"] += 1
        try:
            async for raw in ws:
                await self._on_frame(client, json.loads(raw))
        except Exception:  # a dropped connection ends the session; anything else too
            pass
        finally:
            self.clients.remove(client)
            for sub in client.subscriptions.values():
                if sub.starter:
                    sub.starter.cancel()

    async def _on_frame(self, client: Client, msg: dict[str, Any]) -> None:
        topic, event, ref = msg.get("topic"), msg.get("event"), msg.get("ref")
        if topic == "phoenix" and event == "heartbeat":
            self.stats["heartbeats"] += 1
            await self._reply(client, topic, ref, {})
        elif event == "phx_join":
            self.stats["joins"] += 1
            if not self.ignore_joins:
                await self._join(client, topic, ref, msg.get("payload") or {})
        elif event == "phx_leave":
            sub = client.subscriptions.pop(topic, None)
            if sub and sub.starter:
                sub.starter.cancel()
            await self._reply(client, topic, ref, {})

    async def _join(self, client: Client, topic: str, ref: str | None, payload: dict[str, Any]) -> None:
        if self.apikey is not None and payload.get("access_token") != self.apikey:
            await self._send(client, {"topic": topic, "event": "phx_reply", "ref": ref,
                                      "payload": {"status": "error", "response": {"reason": "Invalid token"}}})
            return
        requested = ((payload.get("config") or {}).get("postgres_changes")) or []
        # echoed as Supabase does: these keys, absent ones as null, plus the id
        bindings = [{"id": binding_id(b), **{k: b.get(k) for k in ("event", "schema", "table", "filter")}}
                    for b in requested]
        old = client.subscriptions.get(topic)
        if old and old.starter:
            old.starter.cancel()
        sub = Subscription(topic, bindings)
        client.subscriptions[topic] = sub
        await self._reply(client, topic, ref, {"postgres_changes": bindings})
        if bindings:
            sub.starter = asyncio.create_task(self._start_streaming(client, sub))

    async def _start_streaming(self, client: Client, sub: Subscription) -> None:
        await asyncio.sleep(self.subscribe_delay)
        sub.streaming = True
        async with self.streaming:
            self.streaming.notify_all()
        if not self.announce_streaming:
            return
        await self._send(client, {
            "topic": sub.topic, "event": "system", "ref": None,
            "payload": {"channel": sub.topic.removeprefix("realtime:"), "extension": "postgres_changes",
                        "message": "Subscribed to PostgreSQL", "status": "ok"}})

    async def _reply(self, client: Client, topic: str, ref: str | None, response: dict[str, Any]) -> None:
        await self._send(client, {"topic": topic, "event": "phx_reply", "ref": ref,
                                  "payload": {"status": "ok", "response": response}})

    async def _send(self, client: Client, frame: dict[str, Any] | str) -> None:
        if client.frozen:
            return
        try:
            await client.ws.send(frame if isinstance(frame, str) else json.dumps(frame))
        except Exception:
            pass  # that connection is gone; its handler cleans up

    # ---- changes from the database --------------------------------------------------------------------

    async def _pump_changes(self) -> None:
        assert self._db is not None
        while True:
            job_id = await self._notified.get()
            record = await self._db.fetchval(
                "select to_jsonb(j) from public.job_requests j where id = $1::uuid", job_id)
            if record is None:
                continue
            record = json.loads(record) if isinstance(record, str) else record
            change = "INSERT" if record["created_at"] == record["updated_at"] else "UPDATE"
            await self._broadcast("public", "job_requests", change, record)

    async def _broadcast(self, schema: str, table: str, change: str, record: dict[str, Any]) -> None:
        data = {"schema": schema, "table": table, "commit_timestamp": datetime.now(UTC).isoformat(),
                "type": change, "columns": self._columns, "record": record, "errors": None}
        poison = self._poison.pop(0) if self._poison else None
        for client in list(self.clients):
            if client.frozen:
                continue
            for sub in list(client.subscriptions.values()):
                ids = list(_matching(sub.bindings, schema, table, change))
                if not (sub.streaming and ids):
                    continue
                frame = {"topic": sub.topic, "event": "postgres_changes", "ref": None,
                         "payload": {"ids": ids, "data": data}}
                if poison:
                    frame = _poisoned(frame, poison)
                    self.stats[f"poisoned_{poison}"] += 1
                self.stats["changes_sent"] += 1
                await self._send(client, frame)


def _matching(bindings: Iterable[dict[str, Any]], schema: str, table: str, change: str) -> Iterable[int]:
    for b in bindings:
        if (b.get("schema") or "public") in (schema, "*") and (b.get("table") or "*") in (table, "*") \
                and b.get("event") in (change, "*"):
            yield b["id"]


def _poisoned(frame: dict[str, Any], kind: str) -> dict[str, Any] | str:
    data = frame["payload"]["data"]
    if kind == "invalid":  # ids must be integers and columns is required: the client cannot validate this
        return {**frame, "payload": {"ids": ["x"], "data": {k: v for k, v in data.items() if k != "columns"}}}
    if kind == "record":  # valid frame, but the record is not a job row at all
        return {**frame, "payload": {**frame["payload"], "data": {**data, "record": {"id": [None, {"x": 1}]}}}}
    if kind == "choke":  # passes validation (phx_ref is optional there), then KeyError in the client's handler
        return {"topic": frame["topic"], "event": "presence_state", "ref": None, "payload": {"poison": {"metas": [{}]}}}
    # oversize: a row past the client's 1 MiB frame limit
    return {**frame, "payload": {**frame["payload"], "data": {**data, "record": {**data["record"],
                                                                                  "params": {"pad": "x" * 2**20}}}}}
