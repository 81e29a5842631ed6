"""The container image, built and run for real with podman (no Docker engine here, and no
registry: base images cannot be pulled).

The base is Debian bookworm made with `debootstrap --variant=minbase` and `podman import`; the
Python packages come from a wheelhouse filled on the host (`pip wheel`; the image installs them
with --no-index); the frontend is compiled on the host by `python -m bitchange build` and copied
in (FRONTEND=prebuilt). All three are cached under BITCHANGE_IMAGE_CACHE (default
~/.cache/bitchange-image), keyed by what they are made from, so a rerun only builds the image.
The image runs with docker-compose.prod.yml's environment and volumes (`podman run`, the
equivalent of its `app` service): /healthz answers, an order placed through the API survives a
restart of the container with the balances, and the app runs as the non-root user.

podman needs runc (`--runtime runc`, Debian package `runc`) and a containers.conf with
`default_ulimits = []`; builds need `--network host`.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bitchange.config import PROJECT_ROOT
from tests.e2e.conftest import BUILD_TIMEOUT, RunningApp
from tests.e2e.test_api_ccxt import client
from tests.mailbox import SmtpServer
from tests.nodes import free_port

CACHE = Path(os.environ.get("BITCHANGE_IMAGE_CACHE", Path.home() / ".cache" / "bitchange-image"))
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "curl", "tini", "sqlite3",
                 "postgresql-client")
MIRROR = os.environ.get("BITCHANGE_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# Besides the project's own: the build backend, and what Debian's Python 3.11.2 needs that the
# host's newer Python does not (redis wants async-timeout before 3.11.3).
EXTRA_WHEELS = ("setuptools>=68", "async-timeout>=4.0.3")
IMAGE = "localhost/bitchange-app:image-test"
APP_UID = 10001
API_KEY = "ImageTestApiKey" + "K7" * 24 + "X"
API_SECRET = "ImageTestApiSecret" + "S9" * 23
TRADER = """
from bitchange import db, ledger
from bitchange.accounts import api_keys
from bitchange.accounts.users import create_user
with db.write() as conn:
    user = create_user(conn, "trader@image.test", "image-test-password-123", verified=True)
    ledger.credit_deposit(conn, ledger.account_for_user(conn, user), "USDT", 10_000 * 10**6,
                          ref_type="image-test", ref_id="1", memo="image test funds")
    api_keys.seed_hmac_key(conn, user, label="image test", api_key={key!r}, secret={secret!r})
"""


def _digest(*parts: bytes) -> str:
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def _source_files() -> list[Path]:
    """What the frontend is compiled from."""
    files = [PROJECT_ROOT / "rxconfig.py", PROJECT_ROOT / "pyproject.toml"]
    for folder in ("bitchange", "assets"):
        files += sorted(p for p in (PROJECT_ROOT / folder).rglob("*")
                        if p.is_file() and "__pycache__" not in p.parts)
    return files


@dataclass
class Podman:
    env: dict[str, str]
    log: Path

    def __call__(self, *args: str, timeout: float = 600, check: bool = True,
                 stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        with self.log.open("ab") as out:
            out.write(f"\n$ podman {' '.join(args)}\n".encode())
            out.flush()
            done = subprocess.run(["podman", "--runtime", "runc", *args], env=self.env,
                                  input=stdin, stdout=subprocess.PIPE, stderr=out,
                                  timeout=timeout, check=False)
            out.write(done.stdout[-4000:])
        if check and done.returncode != 0:
            raise AssertionError(f"podman {args[0]} failed:\n{self.log.read_text()[-4000:]}")
        return done


def _timed(what: str, timings: dict[str, float], work) -> object:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    result = work()
    timings[what] = round(time.monotonic() - started, 1)
    return result


def base_image(podman: Podman, tmp: Path) -> str:
    """Debian bookworm (minbase plus what the image needs), imported once."""
    tag = f"localhost/bitchange-base:bookworm-{_digest(*(p.encode() for p in BASE_PACKAGES))}"
    if podman("image", "exists", tag, check=False).returncode == 0:
        return tag
    tarball = CACHE / f"{tag.rsplit(':', 1)[1]}.tar"
    if not tarball.exists():
        rootfs = tmp / "rootfs"
        with (tmp / "debootstrap.log").open("w") as out:
            done = subprocess.run(
                ["debootstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES),
                 "bookworm", str(rootfs), MIRROR], stdout=out, stderr=subprocess.STDOUT,
                timeout=1800, check=False)
        assert done.returncode == 0, (tmp / "debootstrap.log").read_text()[-4000:]
        partial = tarball.with_suffix(".part")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True)
        partial.rename(tarball)
        shutil.rmtree(rootfs)
    podman("import", str(tarball), tag)
    return tag


def wheelhouse(source: Path, log: Path) -> Path:
    """Every Python package the image installs, as wheels (built on the host if need be),
    from the project at `source` (a copy: building it writes into its folder)."""
    folder = CACHE / ("wheelhouse-" + _digest((PROJECT_ROOT / "pyproject.toml").read_bytes(),
                                              *(w.encode() for w in EXTRA_WHEELS)))
    if not folder.exists():
        partial = folder.with_name(folder.name + ".part")
        shutil.rmtree(partial, ignore_errors=True)
        with log.open("a") as out:
            subprocess.run([sys.executable, "-m", "pip", "wheel", "--wheel-dir", str(partial),
                            str(source), *EXTRA_WHEELS], stdout=out,
                           stderr=subprocess.STDOUT, timeout=3600, check=True)
        partial.rename(folder)
    return folder


def prebuilt_frontend(log: Path) -> Path:
    """`python -m bitchange build` on the host, as the Dockerfile's build stage runs it."""
    folder = CACHE / f"frontend-{_digest(*(p.read_bytes() for p in _source_files()))}"
    if not folder.exists():
        webdir = f".web-image-{folder.name}"
        env = {**os.environ, "BITCHANGE_ENV": "development", "REFLEX_WEB_WORKDIR": webdir,
               "DATA_DIR": str(log.parent / "build-data")}
        with log.open("a") as out:
            subprocess.run([sys.executable, "-m", "bitchange", "build"], cwd=PROJECT_ROOT,
                           env=env, stdout=out, stderr=subprocess.STDOUT,
                           timeout=BUILD_TIMEOUT, check=True)
        shutil.copytree(PROJECT_ROOT / webdir / "build" / "client", folder)
        shutil.rmtree(PROJECT_ROOT / webdir)
    return folder


def build_context(tmp: Path) -> Path:
    """The repository as git sees it (tracked and new files)."""
    context = tmp / "context"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"],
                            cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (context / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, context / name)
    return context


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Podman:
    if not shutil.which("podman") or not shutil.which("debootstrap"):
        pytest.fail("podman and debootstrap are needed (Debian packages podman, runc, "
                    "debootstrap)")
    tmp = tmp_path_factory.mktemp("podman")
    conf = tmp / "containers.conf"
    conf.write_text('[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n')
    return Podman({**os.environ, "CONTAINERS_CONF": str(conf)}, tmp / "podman.log")


@pytest.fixture(scope="module")
def image(podman: Podman, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("image")
    CACHE.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    base = _timed("base image", timings, lambda: base_image(podman, tmp))
    wheels = _timed("wheelhouse", timings,
                    lambda: wheelhouse(build_context(tmp / "project"), tmp / "wheels.log"))
    frontend = _timed("frontend", timings, lambda: prebuilt_frontend(tmp / "frontend.log"))
    context = build_context(tmp)
    shutil.copytree(wheels, context / "wheelhouse", copy_function=os.link)  # type: ignore[arg-type]
    shutil.copytree(frontend, context / "prebuilt-frontend")  # type: ignore[arg-type]
    _timed("podman build", timings, lambda: podman(
        "build", "--network", "host", "--format", "docker", "--layers=false",
        "--build-arg", f"BUILD_IMAGE={base}", "--build-arg", f"RUNTIME_IMAGE={base}",
        "--build-arg", "PIP_SOURCE=wheelhouse", "--build-arg", "FRONTEND=prebuilt",
        "-t", IMAGE, str(context), timeout=3600))
    print(f"image build timings (s): {timings}")  # for the lead: what CI can afford
    yield IMAGE
    podman("rmi", "-f", IMAGE, check=False)


def production_env(mailbox: SmtpServer, port: int) -> dict[str, str]:
    """deploy/.env.production as an operator fills it in (a fresh secret for every
    change-me), with the compose file's environment over it."""
    values: dict[str, str] = {}
    for line in (PROJECT_ROOT / "deploy" / ".env.production.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = secrets.token_urlsafe(48) if "change-me" in value else value
    values.update(SMTP_HOST=mailbox.host, SMTP_PORT=str(mailbox.port), SMTP_TLS="none",
                  SMTP_USER="", S3_BUCKET="", S3_ENDPOINT_URL="", BACKUP_SCHEDULE="off")
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.prod.yml").read_text())
    values.update(compose["services"]["app"]["environment"])
    # On the host's network (no port mapping here), the container listens on a free port.
    values["PORT"] = str(port)
    return values


@dataclass
class Container:
    name: str
    url: str
    podman: Podman

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=3) as r:  # noqa: S310
                return r.status == 200
        except OSError:
            return False

    def wait_healthy(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            state = self.podman("inspect", "-f", "{{.State.Status}}", self.name).stdout
            assert state.strip() == b"running", self.podman("logs", self.name).stdout[-4000:]
            assert time.monotonic() < deadline, self.podman("logs", self.name).stdout[-4000:]
            time.sleep(1)  # polling a starting server

    def exec(self, *command: str) -> str:
        return self.podman("exec", self.name, *command).stdout.decode().strip()


@pytest.fixture
def container(image: str, podman: Podman, mailbox: SmtpServer, tmp_path: Path
              ) -> Iterator[Container]:
    port = free_port()
    env_file = tmp_path / ".env.production"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in production_env(mailbox, port).items()))
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.prod.yml").read_text())
    volumes = []
    for volume in compose["services"]["app"]["volumes"]:  # ./data:/data ...
        host, target = volume.split(":")
        folder = tmp_path / host.removeprefix("./")
        folder.mkdir()
        os.chown(folder, APP_UID, APP_UID)  # as deploy/provision.sh does
        volumes += ["--volume", f"{folder}:{target}"]
    name = f"bitchange-image-test-{port}"
    podman("run", "--detach", "--name", name, "--network", "host", "--env-file", str(env_file),
           *volumes, image)
    running = Container(name, f"http://127.0.0.1:{port}", podman)
    try:
        running.wait_healthy()
        yield running
    finally:
        podman("logs", name, check=False)
        podman("rm", "-f", name, check=False)


def test_the_image_keeps_orders_and_balances_across_a_restart_as_non_root(container):
    # Not root: the user the Dockerfile creates runs PID 1 (tini) and the app under it.
    assert container.exec("id", "-u") == str(APP_UID)
    assert container.exec("stat", "-c", "%u", "/proc/1") == str(APP_UID)
    assert container.exec("sh", "-c", "stat -c %u /proc/[0-9]*/ | sort -u") == str(APP_UID)
    assert container.exec("stat", "-c", "%U", "/data") == "bitchange"

    container.exec("python", "-c", TRADER.format(key=API_KEY, secret=API_SECRET))
    trader = client(RunningApp(container.url, "", Path(), Path()), API_KEY, API_SECRET)
    trader.load_markets()
    placed = trader.create_order("BTC/USDT", "limit", "buy", 0.01, 30000)
    before = trader.fetch_balance()["USDT"]
    assert (before["free"], before["used"]) == (10_000 - 300.0, 300.0)

    container.podman("restart", "--time", "30", container.name, timeout=120)
    container.wait_healthy()

    trader = client(RunningApp(container.url, "", Path(), Path()), API_KEY, API_SECRET)
    trader.load_markets()
    [kept] = trader.fetch_open_orders("BTC/USDT")
    assert (kept["id"], kept["price"], kept["amount"]) == (placed["id"], 30000.0, 0.01)
    after = trader.fetch_balance()["USDT"]
    assert (after["free"], after["used"]) == (before["free"], before["used"])
    assert "bitchange.db" in container.exec("ls", "/data").split()  # on the volume
