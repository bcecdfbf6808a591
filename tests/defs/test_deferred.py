"""Deferred imports: the code location loads without pandas, which loads, once, when a body
first uses it, from any number of threads."""

import os
import subprocess
import sys
import textwrap
import threading

import pytest

from kj_pipelines.defs import deferred


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=120)


def test_definitions_load_without_pandas_and_a_run_loads_it(sample_dir):
    done = _run("""
        import dagster as dg
        import kj_pipelines.definitions as d
        from kj_pipelines.defs.deferred import is_deferred
        d.defs.get_repository_def().get_all_jobs()
        for name in ("pandas", "numpy", "openpyxl", "duckdb"):
            assert is_deferred(name), f"{name} loaded with the definitions"
        from kj_pipelines.defs.intake.assets import annual_targets
        from kj_pipelines.defs.resources import default_resources
        with dg.instance_for_test() as instance:  # the target lists: read with pandas
            result = dg.materialize([annual_targets], instance=instance,
                                    resources=default_resources())
        assert result.success
        assert not is_deferred("pandas") and not is_deferred("duckdb")  # read, then stored
        import pandas as pd
        assert pd.DataFrame({"a": [1, 2]})["a"].sum() == 3
        from openpyxl import load_workbook
        from kj_pipelines.excel.writing import cell_styles
        assert not is_deferred("openpyxl") and cell_styles().border.left.style == "thin"
        print("ok")
    """, {**os.environ, "KJ_DATA_DIR": str(sample_dir.root)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


@pytest.fixture
def slow_module(tmp_path, monkeypatch):
    """A module that takes a while to import and counts how often its code ran."""
    name = "kj_test_slow_module"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent("""
        import builtins, time
        builtins.__dict__.setdefault("_kj_slow_runs", []).append(1)
        time.sleep(0.2)
        VALUE = 42
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)
    import builtins
    builtins.__dict__.pop("_kj_slow_runs", None)


def test_a_deferred_module_runs_once_however_many_threads_use_it(slow_module):
    import builtins

    deferred.defer(slow_module)
    module = __import__(slow_module)  # what `import x` does: binds it, does not run it
    assert deferred.is_deferred(slow_module)
    assert "_kj_slow_runs" not in builtins.__dict__
    seen: list[int] = []
    threads = [threading.Thread(target=lambda: seen.append(module.VALUE)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [42] * 4
    assert builtins.__dict__["_kj_slow_runs"] == [1]
    assert not deferred.is_deferred(slow_module)


def test_a_module_that_fails_to_load_fails_where_it_is_used(tmp_path, monkeypatch):
    name = "kj_test_broken_module"
    (tmp_path / f"{name}.py").write_text("raise ImportError('broken on purpose')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    deferred.defer(name)
    module = __import__(name)
    with pytest.raises(ImportError, match="broken on purpose"):
        module.anything  # noqa: B018
    assert name not in sys.modules  # the next import tries again, as a failed import does


def test_an_imported_or_missing_module_is_left_alone():
    deferred.defer("json", "kj_no_such_module_here")
    import json

    assert not deferred.is_deferred("json") and json.dumps([1]) == "[1]"
    assert "kj_no_such_module_here" not in sys.modules
