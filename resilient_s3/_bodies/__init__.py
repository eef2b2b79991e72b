"""Bodies: what is sent and what comes back, made safe to resend and to resume.

- ``request``: request bodies rewound, spooled or refused before a retry resends them.
- ``resumable``: a GetObject body that continues after a connection fails mid-body.
- ``reopen``: how that body is reopened at an offset (a Range pinned to the ETag).
- ``transfer``: boto3's managed transfers (``upload_file`` & co.) routed through the facade.
"""

__all__: list[str] = []
