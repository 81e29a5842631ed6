"""The in-page check (`components/proof_verify.js`) run by Node (the Node.js that builds the
frontend; its WebCrypto is the browser's SubtleCrypto API): it validates every user's proof and
rejects each kind of tampering the standalone verifier rejects."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

from bitchange import db
from bitchange.config import PROJECT_ROOT
from bitchange.proof import snapshot as proof
from tests.proof.conftest import Owed

SCRIPT = PROJECT_ROOT / "bitchange" / "components" / "proof_verify.js"
NODE = shutil.which("node", path=str(Path(sys.executable).parent)) or "node"
RUNNER = """
globalThis.window = globalThis;
require(process.argv[1]);
const proofs = JSON.parse(require("fs").readFileSync(0, "utf8"));
Promise.all(proofs.map((p) => window.bitchangeProof.verify(JSON.stringify(p))))
  .then((lines) => console.log(JSON.stringify(lines)));
"""


def _check(documents: list[dict]) -> list[str]:
    run = subprocess.run([NODE, "-e", RUNNER, str(SCRIPT)], input=json.dumps(documents),
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(run.stdout)


def test_the_page_check_validates_and_rejects(owed: Owed) -> None:
    taken = proof.take_snapshot()
    with db.read() as conn:
        documents = [proof.proof_for(conn, taken.snapshot_id, user) for user in
                     owed.users.values()]
    assert all(documents)
    bob = documents[1]
    tampered = []
    for change in (
        lambda d: d["leaves"][0]["amounts"].__setitem__(2, str(int(d["leaves"][0]["amounts"][2])
                                                               + 1)),
        lambda d: d["leaves"][0]["path"][2]["sums"].__setitem__(0, str(
            int(d["leaves"][0]["path"][2]["sums"][0]) + 1)),
        lambda d: d["leaves"][0]["path"][0].update(hash="0" * 64),
        lambda d: d["leaves"][0].update(path=d["leaves"][0]["path"][::-1]),
        lambda d: d["snapshot"].update(root="ab" * 32),
        lambda d: d["leaves"].append(copy.deepcopy(d["leaves"][0]) | {"position": 0}),
    ):
        changed = copy.deepcopy(bob)
        change(changed)
        tampered.append(changed)
    lines = _check([*documents, *tampered])
    valid, invalid = lines[:len(documents)], lines[len(documents):]
    assert all(line.startswith("Validated ") and taken.root in line for line in valid), valid
    assert valid[0].startswith("Validated 0.50000000 BTC and 1,200.000000 USDT for your account")
    assert all(line.startswith("INVALID proof: ") for line in invalid), invalid
