"""The CyberTipline protocol without Django: NCMEC's schema, defused parsing, the answers, the report
as data, and the order in which law enforcement should read industry reports.

- ``documents``: parse a request body (defused, capped) and validate it against NCMEC's schema,
  which ships in this package (``cyber_tipline.xsd``, see ``PROVENANCE.txt``); build the
  ``reportResponse`` and ``reportDoneResponse`` answers.
- ``codes``: the protocol's response codes.
- ``model``: what a validated ``report`` or ``fileDetails`` says, as frozen dataclasses.
- ``risk``: the triage order and the reasons shown for it.

The OpenMNR intake at ``/ispws/`` (``openmnr.industry``) and the bulk import both go through here,
so a report read from a file and a report filed over HTTP are checked by the same code.
"""
