"""The held figures' sensor: once the bureau accepts a figure held back (``kj accept``), the
month re-runs with it.
"""

from __future__ import annotations

import dagster as dg

from kj_pipelines.catalog.model import FIRST_PERIOD
from kj_pipelines.core.periods import add_months, last_complete_month
from kj_pipelines.core.settings import now_local
from kj_pipelines.defs.jobs import monthly_review, review_requests
from kj_pipelines.defs.resources import (
    SENSOR_WAIT_SECONDS,
    KJDataResource,
    WarehouseResource,
    busy_reason,
)
from kj_pipelines.indicators.acceptance import acceptances_after
from kj_pipelines.storage.lock import WarehouseBusy


def acceptance_run_requests(accepted: list, latest: str, first: str = FIRST_PERIOD
                            ) -> list[dg.RunRequest]:
    """One ``monthly_review`` run for each month an acceptance touches: its own, the month
    after (the pair a fall or a jump was judged on) and the month a year later (a growth rate's
    base), as far as the latest complete month."""
    return review_requests([
        (f"accept:{a.accepted_id}", {"kj/trigger": "accept", "kj/accepted_id": str(a.accepted_id)},
         {m for m in (a.period, add_months(a.period, 1), add_months(a.period, 12))
          if first <= m <= latest}) for a in accepted])


@dg.sensor(
    name="acceptance_sensor",
    job=monthly_review,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="暂扣数据确认：科技局用 kj accept 确认某个被暂扣的数属实后，重跑该月（及次月、次年同月）的月调度，"
                "使该数纳入统计。",
)
def acceptance_sensor(context: dg.SensorEvaluationContext, kj_data: KJDataResource,
                      warehouse: WarehouseResource):
    after = int(context.cursor or 0)
    catalog = kj_data.catalog()
    try:
        with warehouse.get_connection(wait=SENSOR_WAIT_SECONDS,
                                      purpose="acceptance_sensor") as conn:
            accepted = acceptances_after(conn, after)
    except WarehouseBusy as exc:
        return busy_reason(exc)
    if not accepted:
        return dg.SkipReason("没有新的确认")
    context.update_cursor(str(max(a.accepted_id for a in accepted)))
    requests = acceptance_run_requests(accepted, last_complete_month(now_local().date()),
                                       catalog.first_period)
    context.log.info(f"确认 {len(accepted)} 个暂扣数，重跑 "
                     f"{', '.join(r.partition_key for r in requests) or '无'}")
    return requests
