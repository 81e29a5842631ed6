"""Off-site copies in any S3-compatible store (AWS S3, Backblaze B2, DigitalOcean Spaces, Wasabi,
MinIO), through boto3 with the endpoint, region, bucket, prefix and key from settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bitchange.config import Settings

CHECKSUM_META = "sha256"  # stored as x-amz-meta-sha256


@dataclass(frozen=True)
class RemoteObject:
    key: str
    name: str
    size: int
    modified: datetime


class RemoteStore:
    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.s3_bucket
        self.prefix = settings.s3_prefix
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=settings.s3_endpoint_url or None,
            region_name=settings.s3_region or None,
            aws_access_key_id=settings.s3_access_key_id or None,
            aws_secret_access_key=settings.s3_secret_access_key or None,
            config=Config(retries={"max_attempts": 5, "mode": "standard"},
                          # Custom endpoints (MinIO, B2...) take path-style bucket addresses.
                          s3={"addressing_style": "path" if settings.s3_endpoint_url
                              else "auto"}),
        )

    def key_for(self, name: str) -> str:
        return self.prefix + name

    def upload(self, path: Path, sha256: str, metadata: dict[str, str]) -> str:
        key = self.key_for(path.name)
        self._client.upload_file(
            str(path), self.bucket, key,
            ExtraArgs={"Metadata": {CHECKSUM_META: sha256, **metadata},
                       "ContentType": "application/octet-stream"},
        )
        return key

    def list(self) -> list[RemoteObject]:
        found: list[RemoteObject] = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix):]
                if "/" not in name and not name.endswith(".sha256"):
                    found.append(RemoteObject(item["Key"], name, item["Size"],
                                              item["LastModified"]))
        return sorted(found, key=lambda o: o.name, reverse=True)

    def checksum(self, name: str) -> str:
        head = self._client.head_object(Bucket=self.bucket, Key=self.key_for(name))
        return head.get("Metadata", {}).get(CHECKSUM_META, "")

    def download(self, name: str, target: Path) -> str:
        """Fetch one backup; returns the checksum recorded in its metadata."""
        self._client.download_file(self.bucket, self.key_for(name), str(target))
        return self.checksum(name)

    def delete(self, names: list[str]) -> None:
        for start in range(0, len(names), 1000):
            batch = names[start:start + 1000]
            self._client.delete_objects(Bucket=self.bucket, Delete={
                "Objects": [{"Key": self.key_for(n)} for n in batch], "Quiet": True})


def remote_store(settings: Settings) -> RemoteStore | None:
    """The configured store, or None when no bucket is set (local backups only)."""
    return RemoteStore(settings) if settings.s3_bucket else None
