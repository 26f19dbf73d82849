"""Bulk scans: hash and match millions of files against the banks on Dask (``openmnr scan``).

Django-free, like the rest of ``openmnr.core``: the command (``openmnr.commands.scan``) writes the
bundle (``index.py``) from the database once, and from then on the scan needs only the bundle and
the files. ``sources`` lists and batches the files, ``worker`` scans one batch on a Dask worker
(``archives`` opens zip and tar archives within caps), ``results`` writes parts, manifest and the
merged results, ``run`` drives it all. docs/scanning.md says how it scales on a real cluster.
"""
