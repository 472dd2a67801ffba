"""Observability tests: scrape the real app's /metrics and read it with prometheus_client's parser.

The metrics are process-wide (as in production), so a test compares a scrape before with a
scrape after what it does, never absolute counts.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

# A real-looking openid (28 characters, WeChat's shape), so the log tests see what production sees.
OPENID = "oLVPpjqs9BhvzwPj5A-vTYAX3GLc"


class Scrape:
    """One /metrics response, parsed: ``scrape.value("linli_messages_total", type="text")``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples = [s for family in text_string_to_metric_families(text) for s in family.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples named ``name`` whose labels include ``labels`` (0 when none)."""
        return sum(s.value for s in self.find(name, **labels))

    def find(self, name: str, **labels: str) -> list:
        return [s for s in self.samples if s.name == name and labels.items() <= s.labels.items()]


async def scrape(client) -> Scrape:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return Scrape(await response.text())
