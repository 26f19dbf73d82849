"""Where a URL is hosted and whom to tell: DNS, IP ownership, CDN detection and RDAP contacts.

Modules, each usable on its own:
    dns     A/AAAA addresses and the CNAME chain, through a small resolver interface
    geo     IP -> ASN, organisation and country from MaxMind-format (.mmdb) files
    cdn     CDN and reverse-proxy detection from the data file cdn.json
    rdap    abuse contacts and registrar from RDAP (RFC 9083), only from configured servers
    trace   combines them into one HostingTrace, and compares two traces

Every error these modules raise on purpose is a subclass of HostingError.
"""


class HostingError(Exception):
    """Base of every error raised on purpose by openmnr.core.hosting."""
