"""Uploaded media stays in memory: it is hashed and forgotten, never written to disk."""

from django.core.files.uploadhandler import MemoryFileUploadHandler


class InMemoryUploads(MemoryFileUploadHandler):
    """Keeps every upload in memory whatever its size (the request cap still applies): Django
    would spool files over FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file, and uploaded media
    must not touch the disk."""

    def handle_raw_input(self, *args, **kwargs):
        super().handle_raw_input(*args, **kwargs)
        self.activated = True
