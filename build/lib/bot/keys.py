"""Typed application state keys (aiohttp's web.AppKey)."""

from aiohttp import web

from bot.config import Settings
from bot.dispatcher.dispatcher import Dispatcher
from bot.services import Services
from bot.wechat.endpoint import WeChatEndpoint

SETTINGS = web.AppKey("settings", Settings)
SERVICES = web.AppKey("services", Services)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
ENDPOINT = web.AppKey("endpoint", WeChatEndpoint)
APIS = web.AppKey("apis", dict)
OUTBOX_WORKER = web.AppKey("outbox_worker", object)
