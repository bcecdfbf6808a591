"""Runs a crash leaves behind: ``orphaned_runs_sensor`` fails a run still STARTED whose worker a
crash has ended (or cancels one CANCELING), and the run launcher of ``make ui`` and the
deployment (``LocalRunLauncher``: Dagster's default one, each run a process of the code server)
answers a cancel of such a run at once.

The default launcher cancels a run by asking the code server that started it; after a crash
that server is gone, the request fails (the UI and GraphQL answered HTTP 500) and the run stayed
CANCELING until run monitoring's cancel timeout (3 min). Here a run whose recorded worker is
known dead (:mod:`kj_pipelines.core.processes`) is marked canceled at once; every other cancel goes
the default way. (Runs left STARTED are failed by ``orphaned_runs_sensor``.)
"""

from __future__ import annotations

import dagster as dg

from kj_pipelines.core.processes import DEAD, TAG, worker_state
from kj_pipelines.core.processes import TAG as WORKER_TAG


class LocalRunLauncher(dg.DefaultRunLauncher):
    def terminate(self, run_id: str) -> bool:
        if self.has_instance:
            run = self._instance.get_run_by_id(run_id)
            if run is not None and not run.is_finished \
                    and worker_state(run.tags.get(TAG)) == DEAD:
                self._instance.report_run_canceled(
                    run, message="运行进程已不存在（崩溃或重启后），直接标记为已取消")
                return True
        return super().terminate(run_id)


ORPHAN_STATUSES = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)


def orphaned_runs(runs: list, state) -> list[tuple[object, str]]:
    """The runs whose worker a crash ended, with what becomes of each: a STARTED run is failed
    (and retried as the instance's run_retries say), a CANCELING one canceled. ``state``: a
    run's worker tag → alive, dead or unknown (:func:`kj_pipelines.core.processes.worker_state`)."""
    out = []
    for run in runs:
        if state(run.tags.get(WORKER_TAG)) != DEAD:
            continue
        out.append((run, "failed" if run.status == dg.DagsterRunStatus.STARTED else "canceled"))
    return out


@dg.sensor(
    name="orphaned_runs_sensor",
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="进程中断的运行：主机重启、内存不足被杀、容器或 dg dev 整组进程被终止后，仍显示“运行中”的运行"
                "在其进程已不存在时判为失败（按重试策略自动重跑一次），正在取消的判为已取消，不再占用运行名额。",
)
def orphaned_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    instance = context.instance
    runs = list(instance.get_runs(filters=dg.RunsFilter(statuses=list(ORPHAN_STATUSES)),
                                  limit=200))
    done = []
    for run, verdict in orphaned_runs(runs, worker_state):
        message = ("运行进程已不存在（主机重启、进程被终止或代码服务器重启），判为失败；"
                   "按实例的重试策略重跑" if verdict == "failed"
                   else "运行进程已不存在，取消完成")
        if verdict == "failed":
            instance.report_run_failed(run, message=message)
        else:
            instance.report_run_canceled(run, message=message)
        done.append(f"{run.run_id[:8]} {verdict}")
        context.log.warning(f"run {run.run_id}: {message}")
    return dg.SkipReason(f"检查 {len(runs)} 个运行中的运行；"
                         + (f"处理进程已不存在的：{', '.join(done)}" if done else "均在运行"))
