"""/ispws/: the CyberTipline-compatible API (see ispws.py)."""

from django.urls import path

from . import ispws

app_name = "ispws"
urlpatterns = [
    path("status", ispws.status, name="status"),
    path("xsd", ispws.xsd, name="xsd"),
    path("submit", ispws.submit, name="submit"),
    path("upload", ispws.upload, name="upload"),
    path("fileinfo", ispws.fileinfo, name="fileinfo"),
    path("finish", ispws.finish, name="finish"),
    path("retract", ispws.retract, name="retract"),
]
