"""/healthz is alive whatever the database does; /readyz is 200 only when the app started and the
database answers, else 503 with a JSON reason."""

from __future__ import annotations

from aiohttp.test_utils import make_mocked_request

from bot import keys
from bot.app import create_app
from bot.observability import health
from storage.db import Database


async def test_ready_when_started_and_the_database_answers(app_client):
    ready = await app_client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {"status": "ready"}
    alive = await app_client.get("/healthz")
    assert alive.status == 200 and await alive.json() == {"status": "ok"}


async def test_not_ready_when_the_database_fails_but_still_alive(app_client, tmp_path):
    services = app_client.app[keys.SERVICES]
    working = services.db
    directory = tmp_path / "not-a-database"
    directory.mkdir()
    services.db = Database(f"sqlite+aiosqlite:///{directory}")  # SQLite cannot open a directory
    try:
        response = await app_client.get("/readyz")
        body = await response.json()
        alive = await app_client.get("/healthz")
    finally:
        await services.db.dispose()
        services.db = working
    assert response.status == 503
    assert body == {"status": "unavailable", "reason": "database error: OperationalError"}
    assert alive.status == 200
    assert (await app_client.get("/readyz")).status == 200  # the database is back


async def test_not_ready_before_start_up_or_once_shutting_down(settings, nlu_engine):
    app = create_app(settings, nlu=nlu_engine)
    request = make_mocked_request("GET", "/readyz", app=app)
    starting = await health.readyz(request)
    assert starting.status == 503 and b'"reason": "starting"' in starting.body
    await app[health.READINESS].on_shutdown(app)
    stopping = await health.readyz(request)
    assert stopping.status == 503 and b'"reason": "shutting down"' in stopping.body
