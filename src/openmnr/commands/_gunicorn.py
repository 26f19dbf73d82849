"""What ``openmnr serve`` gives gunicorn: a logger that never writes a client's address.

The access log format (``ACCESS_LOG_FORMAT``) has no ``%(h)s`` and no forwarded-for header, nor the
referrer or user agent (which can point to a reporter as well as an address can): time, request
line, status, size, duration and the request id that the audit log also records. The logger also
blanks the address atoms, so an operator's own ``--access-logformat`` with ``%(h)s`` still writes
'-', and gunicorn's error log line for a malformed request ("Invalid request from ip=...").
Loaded by gunicorn in its own processes (``--logger-class``); not a sub-command.
"""

import re

from gunicorn.glogging import Logger

ACCESS_LOG_FORMAT = '%(t)s "%(r)s" %(s)s %(b)s %(M)sms request=%({x-request-id}o)s'
_IP = re.compile(r"\bip=\S+")
_ADDRESS_HEADERS = ("{x-forwarded-for}i", "{x-real-ip}i", "{forwarded}i", "{remote_addr}e")


class AddressFreeLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["h"] = "-"
        for name in _ADDRESS_HEADERS:
            atoms.pop(name, None)
        return atoms

    def warning(self, msg, *args, **kwargs):
        super().warning(_IP.sub("ip=-", str(msg)), *args, **kwargs)

    def error(self, msg, *args, **kwargs):
        super().error(_IP.sub("ip=-", str(msg)), *args, **kwargs)
