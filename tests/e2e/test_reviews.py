"""The review jobs refuse to score a period nobody has reviewed (scoring itself: test_scoring;
the documents: test_review_documents)."""

import dagster as dg

from kj_pipelines.definitions import build_defs


def test_a_ranking_of_an_unreviewed_quarter_fails_and_says_what_to_run(catalog, reviewed_copy):
    defs = build_defs(catalog)  # the sample reviewed 2026-08…2026-10 only
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("quarterly_analysis").execute_in_process(
            partition_key="2026-01", instance=instance, raise_on_error=False)
        assert not result.success
        [failure] = [e for e in result.all_events if e.is_step_failure]
        message = failure.step_failure_data.error.message
        assert "2026-03 尚无指标进度" in message and "monthly_review" in message
        assert not result.asset_materializations_for_node("quarterly_report")
