"""One shared access_token per AppID, refreshed by one caller at a time across all processes.

WeChat rules (DESIGN §3.6): a token lives 7200 s, every fetch from /cgi-bin/token invalidates
the previous one and fetches are capped per day. So the token lives in the database (not in
process memory) and a refresh is serialised twice: an ``asyncio.Lock`` inside the process (twenty
coroutines needing a token cause one fetch) and a lease in the ``access_tokens`` row between
processes (the loser polls the row until the winner's token appears).

We use POST /cgi-bin/stable_token: in its normal mode repeated calls return the same token
while it is valid and it renews only in the last five minutes, so an accidental extra fetch is
harmless. ``force_refresh`` is used only when WeChat rejected the token we hold (40001/42001),
and only if the stored token is still that rejected one; otherwise another process has already
replaced it and forcing again would invalidate the replacement.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

import aiohttp

from bot.wechat.http import TokenFetchError, WeChatApiError, WeChatUnavailable, call_json, mask
from storage import tokens as token_rows
from storage.db import Database

log = logging.getLogger("linli.wechat.token")

# Normal-mode stable_token only renews within the last 5 minutes; refreshing earlier than that
# would just fetch the same token again and again.
STABLE_RENEW_SECONDS = 300


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class TokenManager:
    """Hands out a valid access_token for one AppID; create one per AppID per process."""

    def __init__(self, db: Database, http: aiohttp.ClientSession, *, base_url: str, appid: str, secret: str,
                 margin_seconds: float = 300, clock: Callable[[], datetime] = _utcnow, timeout: float = 5.0,
                 poll_seconds: float = 0.05) -> None:
        self._db = db
        self._http = http
        self._url = base_url.rstrip("/") + "/cgi-bin/stable_token"
        self.appid = appid
        self._secret = secret
        self._margin = timedelta(seconds=min(margin_seconds, STABLE_RENEW_SECONDS))
        self._clock = clock
        self._timeout = timeout
        self._poll = poll_seconds
        self._lease = timedelta(seconds=timeout + 5)
        self._lock = asyncio.Lock()
        self._cached: tuple[str, datetime] | None = None

    async def get(self) -> str:
        """A token valid for at least the margin; refreshes (once for all callers) if needed."""
        if self._cached and self._is_fresh(*self._cached):
            return self._cached[0]
        stored = await self._read()
        if stored is not None and self._is_fresh(stored.token, stored.expires_at):
            self._cached = (stored.token, stored.expires_at)
            return stored.token
        return await self.refresh()

    async def refresh(self, force: bool = False, stale_token: str | None = None) -> str:
        """Get a new token unless someone already did; ``stale_token`` is the one WeChat rejected.

        With ``force`` and no ``stale_token`` the token stored right now counts as stale.
        """
        async with self._lock:
            stored = await self._read()
            if force and stale_token is None:
                stale_token = stored.token if stored else None
            if self._usable(stored, stale_token):
                self._cached = (stored.token, stored.expires_at)
                return stored.token
            return await self._refresh_or_wait(force, stale_token)

    # ---- internals -------------------------------------------------------------------------

    async def _refresh_or_wait(self, force: bool, stale_token: str | None) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lease.total_seconds() + self._timeout
        while True:
            if await self._try_lease(stale_token):
                return await self._fetch_and_store(force and stale_token is not None)
            await asyncio.sleep(self._poll)
            stored = await self._read()
            if self._usable(stored, stale_token):
                self._cached = (stored.token, stored.expires_at)
                return stored.token
            if loop.time() > deadline:
                raise WeChatUnavailable(f"timed out waiting for another process to refresh the token of {self.appid}")

    async def _try_lease(self, stale_token: str | None) -> bool:
        now = self._clock()
        async with self._db.sessions.begin() as session:
            await token_rows.ensure_row(session, self.appid, now)
            return await token_rows.acquire_lease(session, self.appid, now=now, lease_until=now + self._lease,
                                                  fresh_until=now + self._margin, stale_token=stale_token)

    async def _fetch_and_store(self, force: bool) -> str:
        try:
            token, expires_in = await self._fetch(force)
        except BaseException:
            async with self._db.sessions.begin() as session:
                await token_rows.release_lease(session, self.appid, now=self._clock())
            raise
        now = self._clock()
        expires_at = now + timedelta(seconds=expires_in)
        async with self._db.sessions.begin() as session:
            await token_rows.store(session, self.appid, token=token, expires_at=expires_at, now=now)
        self._cached = (token, expires_at)
        log.info("access_token for %s refreshed (%s, expires in %ss%s)", self.appid, mask(token), expires_in,
                 ", forced" if force else "")
        return token

    async def _fetch(self, force: bool) -> tuple[str, int]:
        body = {"grant_type": "client_credential", "appid": self.appid, "secret": self._secret,
                "force_refresh": force}
        try:
            data = await call_json(self._http, "POST", self._url, timeout=self._timeout, body=body)
        except WeChatApiError as exc:
            log.error("WeChat refused an access_token for %s: errcode %s %s (check the AppSecret and the "
                      "IP whitelist)", self.appid, exc.errcode, exc.errmsg)
            raise TokenFetchError(exc.errcode, exc.errmsg) from None
        token, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeChatUnavailable("stable_token: answer without access_token/expires_in")
        return token, expires_in

    async def _read(self) -> token_rows.StoredToken | None:
        async with self._db.sessions() as session:
            return await token_rows.read(session, self.appid)

    def _is_fresh(self, token: str | None, expires_at: datetime | None) -> bool:
        return bool(token) and expires_at is not None and expires_at > self._clock() + self._margin

    def _usable(self, stored: token_rows.StoredToken | None, stale_token: str | None) -> bool:
        return (stored is not None and self._is_fresh(stored.token, stored.expires_at)
                and stored.token != stale_token)
