"""A real HTTP S3-compatible endpoint (moto in server mode) reached through boto3."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from bitchange.config import reload_settings

BUCKET = "bitchange-backups-test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class S3:
    endpoint: str
    bucket: str
    prefix: str
    client: Any

    def keys(self) -> list[str]:
        listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=self.prefix)
        return sorted(o["Key"] for o in listing.get("Contents", []))


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, database: str) -> Iterator[S3]:
    """A fresh bucket on the moto server; the settings point the app at it."""
    client = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    bucket = f"{BUCKET}-{_free_port()}"
    client.create_bucket(Bucket=bucket)
    for name, value in {"S3_ENDPOINT_URL": moto_endpoint, "S3_BUCKET": bucket,
                        "S3_REGION": "us-east-1", "S3_PREFIX": "nightly/",
                        "S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    reload_settings()
    yield S3(moto_endpoint, bucket, "nightly/", client)
    reload_settings()
