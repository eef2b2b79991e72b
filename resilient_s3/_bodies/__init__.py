"""Bodies: what is sent and what comes back, made safe to resend and to resume.

- ``request``: request bodies rewound, spooled or refused before a retry resends them.
- ``resumable``: a GetObject body that continues after a connection fails mid-body.
- ``reopen``: how that body is reopened at an offset (a Range pinned to the ETag).
- ``pinned``: what a later request for an object's bytes asks for (``Range``, ``If-Match``) and
  how its answer is checked (its ETag, its ``Content-Range``): the facade's resumable body and
  the native transport's downloads.
- ``partfile``: a download's ``.part`` file, renamed onto its target when complete (both data
  planes' downloads into files).
- ``transfer``: boto3's managed transfers (``upload_file`` & co.) routed through the facade.
"""

__all__: list[str] = []
