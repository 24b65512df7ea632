"""A real S3-compatible server on loopback for the artifact-store tests: moto's server mode.

moto runs as its own process (``python -m moto.server``) on a free port, so boto3 talks HTTP
to it exactly as it would to S3 or MinIO; each test gets its own bucket.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests

from bench.load import stop_group

REGION = "us-east-1"
KEY_ID = "movierec-test"
SECRET = "movierec-test-secret"
PREFIX = "models"


class MotoServer:
    """``python -m moto.server`` in its own process group, stopped by signalling the group."""

    def __init__(self, log_path: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"moto exited:\n{self.log_path.read_text()[-2000:]}")
            try:
                requests.get(self.url, timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise AssertionError("moto did not answer within 30 s")

    def stop(self) -> None:
        if self.proc is not None:
            stop_group(self.proc, timeout=10)

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
        )


@dataclass
class Bucket:
    """One test's bucket, with the settings and environment that point the app at it."""

    server: MotoServer
    name: str

    def objects(self) -> list[str]:
        listing = self.server.client().list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    def put(self, key: str, body: bytes) -> None:
        self.server.client().put_object(Bucket=self.name, Key=key, Body=body)

    def delete(self, key: str) -> None:
        self.server.client().delete_object(Bucket=self.name, Key=key)

    def storage(self) -> dict[str, Any]:
        """``STORAGES["models"]`` for this bucket (what RECS_ARTIFACT_STORAGE=s3 builds)."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": self.name,
                "location": PREFIX,
                "endpoint_url": self.server.url,
                "region_name": REGION,
                "access_key": KEY_ID,
                "secret_key": SECRET,
            },
        }

    def env(self, cache_dir: Path) -> dict[str, str]:
        """Environment of a process that stores its artifacts in this bucket."""
        return {
            "RECS_ARTIFACT_STORAGE": "s3",
            "RECS_S3_BUCKET": self.name,
            "RECS_S3_PREFIX": PREFIX,
            "RECS_S3_ENDPOINT_URL": self.server.url,
            "RECS_S3_REGION": REGION,
            "RECS_S3_ACCESS_KEY_ID": KEY_ID,
            "RECS_S3_SECRET_ACCESS_KEY": SECRET,
            "RECS_MODEL_CACHE_DIR": str(cache_dir),
        }


def new_bucket(server: MotoServer) -> Bucket:
    name = f"models-{uuid.uuid4().hex[:12]}"
    server.client().create_bucket(Bucket=name)
    return Bucket(server, name)
