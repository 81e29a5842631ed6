"""Logs: one JSON object per line in production (LOG_FORMAT=auto|json), readable text otherwise.

`docker compose logs` and any log shipper can parse the JSON lines; each has time (UTC, ISO 8601),
level, logger, message, and the exception when there is one.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from bitchange.config import Settings, get_settings

_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool)) else str(value)
        return json.dumps(entry, ensure_ascii=False)


def wants_json(settings: Settings) -> bool:
    return settings.log_format == "json" or (
        settings.log_format == "auto" and settings.is_production)


_HANDLER_NAME = "bitchange-root"


def configure_logging(settings: Settings | None = None) -> None:
    """Idempotent: one stderr handler on the root logger, JSON or text per the settings."""
    settings = settings or get_settings()
    root = logging.getLogger()
    if any(h.get_name() == _HANDLER_NAME for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if wants_json(settings) else logging.Formatter(
        "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    for noisy in ("apscheduler", "botocore", "boto3", "s3transfer", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
