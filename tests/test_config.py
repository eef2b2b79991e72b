"""Config merging: the caller's settings kept, our defaults filled in, botocore retries off."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config

from resilient_s3._config import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_POOL_CONNECTIONS,
    DEFAULT_READ_TIMEOUT,
    resilient_config,
)


def test_defaults_without_a_caller_config() -> None:
    config: Any = resilient_config(None, None)
    assert config.max_pool_connections == DEFAULT_MAX_POOL_CONNECTIONS >= 64
    assert config.connect_timeout == DEFAULT_CONNECT_TIMEOUT
    assert config.read_timeout == DEFAULT_READ_TIMEOUT
    assert config.retries == {"total_max_attempts": 1}


def test_caller_settings_are_kept_and_retries_forced_off() -> None:
    user = Config(
        read_timeout=5,
        max_pool_connections=8,
        s3={"addressing_style": "path"},
        retries={"mode": "adaptive", "max_attempts": 10},
        user_agent_extra="app/1",
    )
    config: Any = resilient_config(user, None)
    assert config.read_timeout == 5
    assert config.max_pool_connections == 8
    assert config.s3 == {"addressing_style": "path"}
    assert config.user_agent_extra == "app/1"
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 1}
    assert config.connect_timeout == DEFAULT_CONNECT_TIMEOUT


def test_keyword_pool_size_wins() -> None:
    config: Any = resilient_config(Config(max_pool_connections=8), 200)
    assert config.max_pool_connections == 200
    with pytest.raises(ValueError, match="max_pool_connections"):
        resilient_config(None, 0)
