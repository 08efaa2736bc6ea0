"""Test doubles shared by the API tests (``import api_fakes``; the directory is put on ``sys.path`` by the root
``conftest.py``)."""

from __future__ import annotations

from typing import Any


class WebhookNode:
    """What ``create_app`` reads from a node, with a real webhook service and no market data or views."""

    def __init__(self, service: Any) -> None:
        self.webhook_service = service

    def view(self, _topic):
        return None

    def add_listener(self, _fn) -> None:
        pass

    def remove_listener(self, _fn) -> None:
        pass

    def instruments(self):
        return []

    def health(self):
        return {}
