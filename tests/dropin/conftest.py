"""Helpers of the drop-in tests."""

from __future__ import annotations

#: /proc/net/tcp's state code of an established connection.
_ESTABLISHED = "01"


def established_to(port: int) -> int:
    """How many TCP connections on this machine are established to 127.0.0.1:``port`` (the
    client side of each: its remote port is ``port``), read from ``/proc/net/tcp``."""
    count = 0
    with open("/proc/net/tcp") as table:
        next(table)
        for line in table:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == _ESTABLISHED and int(remote.split(":")[1], 16) == port:
                count += 1
    return count
