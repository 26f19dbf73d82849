"""The CyberTipline response codes (NCMEC's documentation of the Reporting API).

Every answer of the protocol carries one in ``responseCode``: 0 is success; 1xxx the server failed;
2000 authentication; 3xxx authorisation; 4xxx the request is wrong; 5xxx the report or file named is
not in a state (or not there) to take it.
"""

import enum


class Code(enum.IntEnum):
    SUCCESS = 0
    SERVER_ERROR = 1000
    SAVE_FAILED = 1100
    UPLOAD_FAILED = 1110
    FILE_UPLOAD_FAILED = 1111
    NOT_FOUND = 1210
    UPDATE_FAILED = 1300
    AUTHENTICATION_REQUIRED = 2000
    NOT_AUTHORIZED = 3000
    NOT_AUTHORIZED_FOR_SUBMISSIONS = 3100
    NOT_AUTHORIZED_FOR_UPDATES = 3300
    INVALID_REQUEST = 4000
    VALIDATION_FAILED = 4100
    MALFORMED_XML = 4110
    MALFORMED_FILE = 4200
    NO_SUCH_REPORT = 5001
    NO_SUCH_FILE = 5002
    ALREADY_RETRACTED = 5101
    ALREADY_FINISHED = 5102


class ProtocolError(Exception):
    """A request the protocol answers with a non-zero code. ``str(error)`` is the description sent
    back in ``responseDescription``: it must say what was wrong without echoing hash values."""

    def __init__(self, code: Code, description: str, *, report_id: int | None = None):
        super().__init__(description)
        self.code = Code(code)
        self.description = description
        self.report_id = report_id
