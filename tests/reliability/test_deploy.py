"""The production configuration: Dagster's storage on PostgreSQL (deploy/dagster.yaml) runs a
month and a range backfill against a throwaway local server, and the docker-compose recipe is
consistent with it. The server comes from Debian's packages (initdb/pg_ctl in a temporary
directory, on 127.0.0.1); without them the PostgreSQL test is skipped with that reason."""

import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import dagster as dg
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DG = Path(sys.executable).with_name("dg")


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    candidates = ([str(Path(found).resolve().parent)] if found else []) + sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of its own: {"host", "port", "user", "db"}; stopped afterwards."""
    pg = _pg_bin()
    if pg is None:
        pytest.skip("PostgreSQL's initdb/pg_ctl not found (Debian: apt-get install postgresql; "
                    ".ci/run installs it)")
    root = Path(tempfile.mkdtemp(prefix="kj_pg_"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: the server runs as postgres/nobody
        try:
            account = pwd.getpwnam("postgres")
        except KeyError:
            account = pwd.getpwnam("nobody")
        os.chown(root, account.pw_uid, account.pw_gid)
        as_user = ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
                   "--clear-groups"]
    port = _free_port()
    data = root / "data"
    subprocess.run([*as_user, str(pg / "initdb"), "-D", str(data), "-U", "dagster",
                    "--auth=trust", "-E", "UTF8", "--no-instructions"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(pg / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                    "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1", "-w", "start"],
                   check=True, capture_output=True)
    try:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="dagster", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE dagster")
        conn.close()
        yield {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(port),
               "DAGSTER_PG_USER": "dagster", "DAGSTER_PG_PASSWORD": "", "DAGSTER_PG_DB": "dagster"}
    finally:
        subprocess.run([*as_user, str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.slow
def test_a_month_and_a_range_backfill_on_postgres(postgres, small_sample, tmp_path,
                                                  monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(small_sample, data)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, **postgres, "KJ_DATA_DIR": str(data), "DAGSTER_HOME": str(home)}
    selection = 'key:"indicator/*" or key:indicator_progress'
    for cmd in (["--job", "monthly_review", "--partition", "2026-10"],
                ["--assets", selection, "--partition-range", "2026-08...2026-09"]):
        done = subprocess.run([str(DG), "launch", *cmd], env=env, cwd=ROOT, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr[-3000:]

    for key, value in postgres.items():
        monkeypatch.setenv(key, value)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        runs = instance.get_runs()
        assert [r.status.value for r in runs] == ["SUCCESS", "SUCCESS"]
        progress = dg.AssetKey("indicator_progress")
        assert instance.get_materialized_partitions(progress) == {"2026-08", "2026-09", "2026-10"}
        assert instance.run_monitoring_enabled and instance.run_retries_enabled


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yaml").read_text(encoding="utf-8"))


def test_the_compose_recipe_matches_the_instance_and_the_image():
    compose = _compose()
    services = compose["services"]
    assert set(services) == {"postgres", "code", "daemon", "webserver"}
    instance_env = set(re.findall(r"env: (\w+)", (DEPLOY / "dagster.yaml").read_text()))
    assert instance_env == {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USER",
                            "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB"}
    for name in ("code", "daemon", "webserver"):
        env = services[name]["environment"]
        assert instance_env <= set(env), name  # every variable the instance reads is set
        assert env["KJ_DATA_DIR"] == "/data"
    # the warehouse's writers (runs, sensors) live in the code container, the only one with data
    assert [v for v in services["code"]["volumes"] if v.endswith(":/data")]
    assert not [v for s in ("daemon", "webserver") for v in services[s].get("volumes", [])
                if v.endswith(":/data")]
    assert services["webserver"]["ports"] == ["127.0.0.1:3000:3000"]  # behind a proxy only
    build = services["code"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).resolve().exists()
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text(encoding="utf-8"))
    server = workspace["load_from"][0]["grpc_server"]
    assert server["host"] == "code" and str(server["port"]) in services["code"]["command"]
    assert "kj_pipelines.definitions" in services["code"]["command"]
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for copied in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.M):
        for source in copied.split():
            assert (ROOT / source).exists(), source


def test_the_instance_configuration_is_valid_for_dagster(tmp_path):
    # everything but the storage, which needs a server (the PostgreSQL test above loads it whole)
    config = yaml.safe_load((DEPLOY / "dagster.yaml").read_text(encoding="utf-8"))
    assert set(config.pop("storage")) == {"postgres"}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 4
        assert instance.run_retries_enabled and instance.run_monitoring_enabled


@pytest.mark.skipif(shutil.which("docker") is None or subprocess.run(
    ["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="docker compose is not installed here; the recipe is checked by parsing it")
def test_docker_compose_accepts_the_recipe(tmp_path):
    env = {**os.environ, "DAGSTER_PG_PASSWORD": "x", "KJ_DATA_HOST_DIR": str(tmp_path)}
    done = subprocess.run(["docker", "compose", "-f", str(DEPLOY / "docker-compose.yaml"),
                           "config", "-q"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
