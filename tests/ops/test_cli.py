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
    attachment = get_settings().private_dir / "support" / "attachment-token"
    attachment.parent.mkdir(parents=True)
    attachment.write_bytes(b"%PDF-1.7 ticket attachment")
    assert main(["backup"]) == 0
    out = capsys.readouterr().out
    assert "Backup ok" in out and "uploaded to nightly/bitchange-" in out
    assert "documents: " in out and ".documents.tar.gz (sha256 " in out

    assert main(["backups"]) == 0
    listing = capsys.readouterr().out
    assert "local+remote" in listing and "+documents" in listing
    assert listing.count("bitchange-") == 1  # the documents archive is not a backup of its own

    live = database.removeprefix("sqlite:///")
    assert main(["restore", "latest", "--to", live]) == 2
    assert "refusing to overwrite the LIVE database" in capsys.readouterr().err

    target = tmp_path / "drill" / "restored.db"
    documents = tmp_path / "drill" / "private"
    documents.mkdir(parents=True)
    (documents / "stray").write_text("already here")
    assert main(["restore", "latest", "--to", str(target), "--source", "remote",
                 "--documents-to", str(documents)]) == 2
    assert "not empty" in capsys.readouterr().err and not target.exists()
    (documents / "stray").unlink()
    assert main(["restore", "latest", "--to", str(target), "--source", "remote",
                 "--documents-to", str(documents)]) == 0
    out = capsys.readouterr().out
    assert "verified" in out and "Restored 1 documents" in out
    assert (documents / "support" / "attachment-token").read_bytes() == attachment.read_bytes()
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
    made = sorted(p.name for p in folder.iterdir() if not p.name.endswith(".sha256"))
    assert len(made) == 2 and made[0].startswith("bitchange-")
    assert made[0].endswith(".documents.tar.gz") and made[1].endswith(".sqlite.gz")
    assert made[0].split(".")[0] == made[1].split(".")[0]  # the same run's stamp
    assert s3.keys() == [f"nightly/{name}" for name in made]
    assert get_settings().resolved_backup_dir != folder  # the argument, not the default
    for name in made:
        assert Path(folder / (name + ".sha256")).read_text().endswith(f"  {name}\n")
