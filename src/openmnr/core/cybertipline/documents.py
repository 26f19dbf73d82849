"""Reading CyberTipline documents safely, checking them against NCMEC's schema, and writing answers.

A report arrives from outside, so parsing is defused before anything else looks at it:

- the body is refused above ``max_bytes`` before it is parsed;
- no DTD is accepted at all (a CyberTipline document never needs one): a body that declares a
  DOCTYPE or an entity is refused before the parser sees it, so no entity can be declared, expanded
  or fetched; billion-laughs and external-entity (XXE) documents are refused as malformed, whatever
  the entity would have done; only UTF-8 is read (a UTF-16 body could hide the declaration);
- the parser never touches the network and does not lift libxml2's own limits (``huge_tree`` off);
- nesting deeper than ``max_depth`` and more than ``max_elements`` elements are refused (the schema
  never nests deeper than about ten levels).

Validation is lxml's XML Schema validator with the schema NCMEC publishes, read from this package,
so element order (``xs:sequence``), required elements, enumerations and types are all checked as
NCMEC checks them; the validator's own message goes back in ``responseDescription``.

The schema is compiled once per process, by one thread at a time (``schema``): libxml2's schema
compiler is not safe to run in several threads at once. Under a threaded server the first requests
of a fresh process arrive together, and compiling in each of them at the same time failed
("Internal error: xmlSchemaPValAttrNodeValue, the given type is not a built-in type", or "Document
is not valid XML Schema"); a failed compile is not remembered, so the requests that followed
compiled again, together, and failed again, until one happened to compile alone (one server of the
16-client bench answered 19 submits 1000 over ten seconds that way; docs/decisions/0036).

Answers are the schema's ``reportResponse`` and ``reportDoneResponse`` elements, UTF-8, with the
same declaration NCMEC's server writes.
"""

import codecs
import threading
from importlib import resources

from lxml import etree

from .codes import Code, ProtocolError

MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 32
MAX_ELEMENTS = 50_000
SCHEMA_FILE = "cyber_tipline.xsd"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'


def schema_bytes() -> bytes:
    """The schema exactly as shipped (served at GET /ispws/xsd)."""
    return resources.files(__package__).joinpath(SCHEMA_FILE).read_bytes()


_schema: etree.XMLSchema | None = None
_schema_lock = threading.Lock()


def schema() -> etree.XMLSchema:
    """NCMEC's schema, compiled once per process and by one thread only: the others wait for it
    (see the module docstring; validating with the compiled schema from many threads is fine).
    It imports nothing, so compiling it reads no other file and no network."""
    global _schema
    compiled = _schema
    if compiled is None:
        with _schema_lock:
            if _schema is None:
                _schema = etree.XMLSchema(etree.fromstring(schema_bytes(), _parser()))
            compiled = _schema
    return compiled


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse(
    data: bytes,
    root: str,
    *,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    max_depth: int = MAX_DEPTH,
    max_elements: int = MAX_ELEMENTS,
) -> etree._Element:
    """Parse ``data`` as the document whose root element is ``root`` and validate it.

    Raises ``ProtocolError`` with 4110 (malformed XML: not well-formed, a DTD, too large, too deep)
    or 4100 (validation failed: another root, or the schema refuses it), the description saying
    why."""
    if not data or not data.strip():
        raise ProtocolError(Code.MALFORMED_XML, f"Malformed XML: the request has no <{root}> document")
    if len(data) > max_bytes:
        raise ProtocolError(
            Code.MALFORMED_XML, f"Malformed XML: the document is larger than the limit of {max_bytes} bytes"
        )
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data[:4]:
        raise ProtocolError(Code.MALFORMED_XML, "Malformed XML: send the document in UTF-8")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        # Refused before libxml2 sees it: no entity is ever declared, let alone expanded or fetched.
        raise ProtocolError(
            Code.MALFORMED_XML, "Malformed XML: a DOCTYPE is not accepted (no DTDs, no entities)"
        )
    try:
        tree = etree.fromstring(data, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise ProtocolError(Code.MALFORMED_XML, f"Malformed XML: {_syntax_message(exc)}") from None
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ProtocolError(
            Code.MALFORMED_XML, "Malformed XML: a DOCTYPE is not accepted (no DTDs, no entities)"
        )
    element = tree.getroot()
    _check_shape(element, max_depth, max_elements)
    if element.tag != root:
        raise ProtocolError(
            Code.VALIDATION_FAILED, f"Validation failed: expected a <{root}> document, not <{_name(element)}>"
        )
    validate(element)
    return element


def validate(element: etree._Element) -> None:
    """Raise ``ProtocolError`` (4100) with the validator's first message unless the schema accepts it."""
    checker = schema()
    if not checker.validate(element):
        error = checker.error_log.last_error if len(checker.error_log) == 1 else checker.error_log[0]
        where = f" (line {error.line})" if error.line else ""
        message = error.message if len(error.message) <= 400 else error.message[:400] + "...}"
        raise ProtocolError(Code.VALIDATION_FAILED, f"Validation failed: {message}{where}")


def _check_shape(element: etree._Element, max_depth: int, max_elements: int) -> None:
    depth = count = 0
    for event, node in etree.iterwalk(element, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        if isinstance(node, etree._Entity):
            raise ProtocolError(Code.MALFORMED_XML, "Malformed XML: entity references are not accepted")
        depth += 1
        count += 1
        if depth > max_depth:
            raise ProtocolError(
                Code.MALFORMED_XML, f"Malformed XML: elements nest deeper than {max_depth} levels"
            )
        if count > max_elements:
            raise ProtocolError(
                Code.MALFORMED_XML, f"Malformed XML: the document has more than {max_elements} elements"
            )


def _name(element) -> str:
    return element.tag if isinstance(element.tag, str) else "?"


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    message = str(exc.msg or exc).strip()
    return message[:300]


# --- answers ---------------------------------------------------------------------------------------


def _sub(parent, name: str, text) -> None:
    etree.SubElement(parent, name).text = str(text)


def report_response(
    code: int,
    description: str = "",
    *,
    report_id: int | None = None,
    file_id: str | None = None,
    md5: str | None = None,
) -> bytes:
    """A ``reportResponse`` document (the answer to status, submit, upload, fileinfo, retract)."""
    root = etree.Element("reportResponse")
    _sub(root, "responseCode", int(code))
    _sub(root, "responseDescription", description or ("Success" if code == 0 else ""))
    if report_id is not None:
        _sub(root, "reportId", report_id)
    if file_id is not None:
        _sub(root, "fileId", file_id)
    if md5 is not None:
        _sub(root, "hash", md5)
    return _declared(root)


def report_done_response(report_id: int, file_ids: list[str]) -> bytes:
    """The ``reportDoneResponse`` answering a successful finish: the report and its files."""
    root = etree.Element("reportDoneResponse")
    _sub(root, "responseCode", 0)
    _sub(root, "reportId", report_id)
    files = etree.SubElement(root, "files")
    for file_id in file_ids:
        _sub(files, "fileId", file_id)
    return _declared(root)


def error_response(error: ProtocolError) -> bytes:
    return report_response(error.code, error.description, report_id=error.report_id)


def _declared(root) -> bytes:
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)
