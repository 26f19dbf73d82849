"""What other apps and the commands call in the industry app.

scanfiling.py   file_scan(rows, scan_id=, account=, source=)   -> Filed: a bulk scan's findings
                filed as industry reports for analysts (idempotent per file)
                to_file(row, include_unknown=)                  which scan rows are filed
"""

from .scanfiling import FILES_PER_REPORT, Filed, ScanFilingError, ScanNotAllowed, file_scan, to_file

__all__ = ["FILES_PER_REPORT", "Filed", "ScanFilingError", "ScanNotAllowed", "file_scan", "to_file"]
