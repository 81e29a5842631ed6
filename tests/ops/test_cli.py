"""The operator's commands: `backup`, `backups`, `restore`, and the host-cron wrapper."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bitchange.__main__ import main
from bitchange.config import PROJECT_ROOT, get_settings


def test_backup_list_and_restore_commands(database, s3, tmp_path, capsys):
    assert main(["backup"]) == 0
    out = capsys.readouterr().out
    assert "Backup ok" in out and "uploaded to nightly/bitchange-" in out

    assert main(["backups"]) == 0
    listing = capsys.readouterr().out
    assert "local+remote" in listing

    live = database.removeprefix("sqlite:///")
    assert main(["restore", "latest", "--to", live]) == 2
    assert "refusing to overwrite the LIVE database" in capsys.readouterr().err

    target = tmp_path / "drill" / "restored.db"
    assert main(["restore", "latest", "--to", str(target), "--source", "remote"]) == 0
    assert "verified" in capsys.readouterr().out
    conn = sqlite3.connect(target)
    assert conn.execute("SELECT count(*) FROM assets").fetchone()[0] == 3
    conn.close()


def test_backup_db_sh_for_host_cron(database, s3, tmp_path):
    folder = tmp_path / "cron-backups"
    env = {**os.environ, "BITCHANGE_PYTHON": sys.executable,
           "BITCHANGE_BACKUP_LOCK": str(tmp_path / "lock")}
    done = subprocess.run([str(PROJECT_ROOT / "deploy" / "backup_db.sh"), str(folder)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    made = [p.name for p in folder.iterdir() if not p.name.endswith(".sha256")]
    assert len(made) == 1 and made[0].startswith("bitchange-")
    assert s3.keys() == [f"nightly/{made[0]}"]
    assert get_settings().resolved_backup_dir != folder  # the argument, not the default
    assert Path(folder / (made[0] + ".sha256")).read_text().endswith(f"  {made[0]}\n")
