"""Per-stage timestamps of accepted alerts (``WebhookService.stage_hook``), on the sync and the async path."""

from __future__ import annotations

import asyncio
import json


def _recorder():
    seen: list[tuple[str, str, int]] = []
    return seen, lambda key, stage, ts: seen.append((key, stage, ts))


def test_sync_path_reports_every_stage_in_order(tv):
    h = tv.make()
    seen, hook = _recorder()
    h.service.stage_hook = hook
    res = h.post(tv.alert(alert_id="a-1"))
    assert res.status_code == 202
    h.service.drain()
    key = res.body["alert_key"]
    assert [s for k, s, _ in seen if k == key] == ["received", "durable", "queued", "dequeued", "dispatched"]
    times = [t for _, _, t in seen]
    assert times == sorted(times)
    assert len(h.commands) == 1


def test_async_group_commit_reports_each_alert_once_per_stage(tv):
    h = tv.make()
    seen, hook = _recorder()
    h.service.stage_hook = hook

    async def post_all():
        bodies = [json.dumps(tv.alert(alert_id=f"a-{i}")).encode() for i in range(3)]
        return await asyncio.gather(
            *(h.service.handle_async("tradingview", b, "application/json", "52.89.214.238", {}) for b in bodies)
        )

    results = asyncio.run(post_all())
    assert [r.status_code for r in results] == [202, 202, 202]
    h.service.drain()
    for r in results:
        stages = [s for k, s, _ in seen if k == r.body["alert_key"]]
        assert stages == ["received", "durable", "queued", "dequeued", "dispatched"]


def test_rejected_and_duplicate_alerts_report_no_stages(tv):
    h = tv.make()
    seen, hook = _recorder()
    h.post(tv.alert(alert_id="dup"))
    h.service.stage_hook = hook
    assert h.post(tv.alert(alert_id="dup")).status_code == 202  # idempotent replay of the stored answer
    assert h.post(tv.alert(secret="wrong-secret-0123456789")).status_code == 401
    assert [s for _, s, _ in seen] == ["received", "durable"]  # the duplicate's claim ran, nothing was queued
