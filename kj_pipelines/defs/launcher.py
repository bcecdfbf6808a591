"""The run launcher of ``make ui`` and the deployment: Dagster's default one (each run a process
of the code server), which also answers a cancel of a run whose worker a crash has ended.

The default launcher cancels a run by asking the code server that started it; after a crash
that server is gone, the request fails (the UI and GraphQL answered HTTP 500) and the run stayed
CANCELING until run monitoring's cancel timeout (3 min). Here a run whose recorded worker is
known dead (:mod:`kj_pipelines.core.run_workers`) is marked canceled at once; every other cancel goes
the default way. (Runs left STARTED are failed by ``orphaned_runs_sensor``.)
"""

from __future__ import annotations

import dagster as dg

from kj_pipelines.core.run_workers import DEAD, TAG, worker_state


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
