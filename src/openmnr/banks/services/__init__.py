"""What other apps and the views call to curate banks and match against them.

The whole interface, one module per use case::

    access.py     allowed_bank_ids(user)          banks a user's role or account may match against
                  visible_banks(user)             banks a staff user may see and curate
                  save_bank(bank, match_accounts=, by=)   create or change a bank (administrators)
    curation.py   propose_entry(bank, signal_type=, value=, classification=, by=)   -> BankEntry
                  entry_assessments(entry_ids) -> {id: {age_group, gender, flags}}
                  propose_picture(bank, data, classification=, by=)   -> BankEntry: its PDQ, and its
                                                  keypoints with OPENMNR_MATCH_FEATURES
                  confirm_entry(entry, by=)       -> BankEntry (active once enough seniors confirmed)
                  disable_entry(entry, by=, reason=)   -> BankEntry
                  pending_entries(user), pending_imports(user), confirmations_required()
    transfer.py   import_entries(bank, data, fmt=, by=, classification=)   -> ImportBatch
                  confirm_import(batch, by=)      -> ImportBatch
                  export_bank(bank, fmt=, passphrase=, by=)   -> (file name, encrypted bytes)
    scanning.py   write_scan_bundle(folder, user=)   the bundle `openmnr scan` matches against
    matching.py   hash_upload(data, for_matching=) -> Hashes: every signal of a picture or video
                  upload_signals(data)            -> {signal type: HashValue} worth matching, probes
                  match(items, user=)             -> [ItemResult], one per {signal type: value} item
                  match_limits(isolate=, keypoints=)  -> Limits: hashing for matching (query
                                                  probes; keypoints with OPENMNR_MATCH_FEATURES)
                  thresholds(), index_status(user)
                  describe_entries({entry id: distance})   -> [MatchDetail] (the live monitor's hits)
    ../selfreport.py   self_reported_bank(), add_self_reported(...), disable_self_reported(...),
                  screen(items), validate_self_reported(...): the survivors' page's entries

Import them from here (``from openmnr.banks import services; services.match(...)``). Every function
checks the caller's permission and, per object, that the bank is one the caller may see; refusals
raise a ``BankError`` subclass (``banks/errors.py``) and are audited as denied or failed. Every
change is audited inside its own transaction, never with a hash value in the detail. Which signal
types a bank holds, and how each is validated, hashed and matched, comes from the signal registry
(``openmnr.core.signals``, through ``models.signal_types``): nothing here names a signal type
except ``thresholds``, which maps the PDQ radius setting to its signal type, and the local-feature
option (``propose_picture``, the feature check in ``match``), whose keypoints belong to a
picture's PDQ entry.

Four eyes. In a bank whose purpose needs confirmation (confirmed CSAM), an entry is proposed
pending and becomes active, and matchable, once ``BANKS_CONFIRMATIONS_REQUIRED`` different senior
analysts other than the proposer have confirmed it. An import into such a bank follows the same
rule for the whole file: its entries stay pending until that many seniors other than the importer
confirm the import. There is no exception for lists from trusted partners: their assessment is
outside our audit trail, so a partner's list goes into a bank of purpose "partner list", where it
is matched at once under its own action class, and only reaches "confirmed CSAM" through four eyes.
"""

from ..errors import (
    BankError,
    DuplicateEntry,
    FourEyesViolation,
    InvalidInput,
    NotAllowed,
    TooManyVariants,
    WrongState,
)
from ..selfreport import (
    Screening,
    SelfReportError,
    add_self_reported,
    disable_self_reported,
    screen,
    self_reported_bank,
)
from ..selfreport import validate as validate_self_reported
from .access import allowed_bank_ids, save_bank, visible_banks
from .curation import (
    confirm_entry,
    confirmations_required,
    disable_entry,
    entry_assessments,
    pending_entries,
    pending_imports,
    propose_entry,
    propose_picture,
)
from .matching import (
    IndexStatus,
    ItemResult,
    MatchDetail,
    describe_entries,
    describe_signals,
    hash_upload,
    index_status,
    match,
    match_limits,
    thresholds,
    upload_signals,
)
from .scanning import write_scan_bundle
from .transfer import IMPORT_CHUNK, confirm_import, export_bank, import_entries

__all__ = [
    "write_scan_bundle",
    "BankError",
    "DuplicateEntry",
    "FourEyesViolation",
    "IMPORT_CHUNK",
    "IndexStatus",
    "InvalidInput",
    "ItemResult",
    "MatchDetail",
    "NotAllowed",
    "Screening",
    "SelfReportError",
    "TooManyVariants",
    "WrongState",
    "add_self_reported",
    "allowed_bank_ids",
    "confirm_entry",
    "confirm_import",
    "confirmations_required",
    "describe_entries",
    "describe_signals",
    "disable_entry",
    "disable_self_reported",
    "entry_assessments",
    "export_bank",
    "hash_upload",
    "import_entries",
    "index_status",
    "match",
    "match_limits",
    "pending_entries",
    "pending_imports",
    "propose_entry",
    "propose_picture",
    "save_bank",
    "screen",
    "self_reported_bank",
    "thresholds",
    "upload_signals",
    "validate_self_reported",
    "visible_banks",
]
