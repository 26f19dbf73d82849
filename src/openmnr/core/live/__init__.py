"""Live-stream monitor: known material found in live video within seconds; only alerts leave.

``session.Watcher`` ingests one stream through PyAV (RTMP and RTSP as client or server, MPEG-TS over
TCP or UDP, HLS), ``frames.Sampler`` picks frames (2 a second and at scene changes),
``frames.hash_frame`` hashes them with PDQ (fast mode, dihedral variants), ``index`` matches them
against the banks' snapshot and ``rule.AlertRule`` raises an alert when K of the last W samples
match. ``supervisor`` runs one child process per stream and restarts it after a crash. Nothing
here imports Django: the platform records the alerts (``openmnr.live``); docs/live.md is the
operator's guide.
"""
