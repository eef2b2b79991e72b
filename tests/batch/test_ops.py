"""Where downloaded keys land (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from resilient_s3.batch._planes.threaded import local_path


def test_local_path_maps_keys_under_the_root(tmp_path: Path) -> None:
    assert local_path(tmp_path, "a/b/c.txt") == tmp_path / "a" / "b" / "c.txt"
    assert local_path(tmp_path, "a//b") == tmp_path / "a" / "b"
    assert local_path(tmp_path, "pre/x/y", strip="pre/") == tmp_path / "x" / "y"


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "dir/", "./x", "/", ""])
def test_local_path_refuses_keys_that_are_not_file_names_under_the_root(
    tmp_path: Path, key: str
) -> None:
    with pytest.raises(ValueError, match="cannot be saved"):
        local_path(tmp_path, key)
