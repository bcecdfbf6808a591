"""Every name tools outside the project rely on, as a snapshot: a renamed asset, check, job,
schedule or sensor fails here before it reaches a bureau's scripts. After a deliberate change,
regenerate with ``KJ_UPDATE_SNAPSHOT=1 make test`` and review the diff."""

import os
from pathlib import Path

from kj_pipelines.definitions import build_defs

SNAPSHOT = Path(__file__).with_name("definitions_snapshot.txt")


def names(catalog) -> list[str]:
    defs = build_defs(catalog)
    lines = [f"asset {k.to_user_string()}" for k in defs.resolve_all_asset_keys()]
    for key in defs.resolve_all_asset_keys():
        assets_def = defs.resolve_assets_def(key) if key.path[0] != "warnings" else None
        for spec in (assets_def.check_specs if assets_def else ()):
            if spec.asset_key == key:
                lines.append(f"check {key.to_user_string()}:{spec.name}")
    lines += [f"job {j.name}" for j in defs.jobs if not j.name.startswith("__")]
    lines += [f"schedule {s.name}" for s in defs.schedules]
    lines += [f"sensor {s.name}" for s in defs.sensors]
    return sorted(set(lines))


def test_names_match_the_snapshot(catalog, data_dir):
    current = names(catalog)
    if os.environ.get("KJ_UPDATE_SNAPSHOT"):
        SNAPSHOT.write_text("\n".join(current) + "\n", encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8").splitlines()
    assert current == expected
