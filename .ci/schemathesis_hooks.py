"""Schemathesis hooks for the Praktijkregister API run.

Annual plans are sent as the PDF itself (application/pdf): send generated bodies as raw bytes,
as for application/octet-stream.
"""

import schemathesis

schemathesis.serializer.alias("application/pdf", "application/octet-stream")
