"""Live-stream monitor: detection latency per protocol, false alerts, CPU per stream, streams per core.

    .venv/bin/python bench/live.py [--seconds 100] [--insertions 20] [--pipeline-minutes 1]
                                   [--benign-hours 10] [--workers 2] [--sequential] [--json out.json]

What it does, all on 127.0.0.1 (tests/live_streams.py makes and sends the streams):

1. Latency, in REAL TIME. One synthetic 1280x720 30 fps H.264 stream (``--seconds`` of benign
   corpus pictures with a slow zoom; ``--insertions`` pictures of the test bank cut in between
   them at random places, 3 s each: 100 s + 20 x 3 s = about 160 s by default) is
   published paced at real time, at the same moment, to a monitor listening for RTMP, one
   listening for RTSP, one listening for MPEG-TS over TCP, a monitor pulling it as an RTSP client
   from a relay (tests/rtsp_relay.py) and written as HLS (2 s segments) into a folder served over
   HTTP that a fifth monitor reads. Latency is from the wall-clock moment the first packet of a
   known picture was sent (muxed, for HLS: it is only fetchable when its segment is complete) to
   the alert. Median, p95, p99 and the largest per protocol; percentiles interpolate linearly
   between ranks, so with 20 insertions p99 lies between the two largest values (0.81 of the way
   to the largest) and p95 between the 19th and 20th: one slow alert no longer decides p99 alone,
   but 20 values cannot say much more about a 1% tail than the two largest do.
2. CPU, NOT real time: the full pipeline on a benign-only 720p30 stream (``--pipeline-minutes``),
   read from a file as fast as it decodes: CPU seconds per stream second, so streams one core
   sustains, and the anchor, decoding alone (what any monitor must pay), in the same run.
3. False alerts, NOT real time: ``--benign-hours`` of benign-only streams (new pictures and seeds
   per ``--chunk-minutes`` stream), each encoded to an H.264 MPEG-TS file and watched by the same
   ``Watcher`` as a live stream (demux, decode, sampler, PDQ with dihedral variants, match, the
   default K-of-W rule) from that file, as fast as it decodes, in ``--workers`` processes. Only
   the ingest differs from a live stream (a file, not a socket); stream time is the frames'
   timestamps, so the sampler and the rule see exactly the stream time a live stream would give.
   To fit 10 stream-hours into minutes the streams are 640x360 at 2 frames a second: the sampler
   takes one frame each half second of stream time (and each cut, which here falls on a frame it
   takes anyway), so every frame is a sample and the hashed pictures are those a 720p30 stream of
   the same content gives (PDQ scales every frame down to 64x64 before hashing); what is not
   reproduced is the decoding cost of the 28 other frames a second, which point 2 measures. Printed: stream-hours, sampled
   frames, frames matching any bank entry (if none, no K-of-W rule can alert) and false alerts.

The machine is shared: every table prints os.getloadavg() beside it.
"""

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import live_streams as ls  # noqa: E402
from openmnr.core.index import PDQIndex  # noqa: E402
from openmnr.core.live.frames import QUALITY_THRESHOLD, luma_of  # noqa: E402
from openmnr.core.live.index import FixedIndex  # noqa: E402
from openmnr.core.live.session import Settings, StreamSpec, Watcher  # noqa: E402
from openmnr.core.signals import pdq  # noqa: E402
from rtsp_relay import RtspRelay  # noqa: E402

SIZE = (1280, 720)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (shared machine)"


def percentile(values, q):
    """The q-th percentile with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    return float(np.percentile(values, q))


def bank():
    known, benign = ls.known_and_benign()
    hashes = {path: pdq.hash_media(path) for path in known}
    listed = [path for path in known if hashes[path].quality >= QUALITY_THRESHOLD]
    index = PDQIndex.build([hashes[p].value for p in listed], list(range(1, len(listed) + 1)))
    return listed, benign, FixedIndex(index)


class Monitor:
    def __init__(self, spec, index, settings):
        self.events = []
        self.stop = threading.Event()
        self.watcher = Watcher(spec, index, self.events.append, settings, self.stop)
        self.thread = threading.Thread(target=self.watcher.run, daemon=True)
        self.thread.start()

    def opened(self):
        return [event.wall for event in self.events if event.kind == "alert_opened"]


def latencies(sent: list[float], opened: list[float], window: float = 30.0):
    """Each known picture sent is paired, in order, with the first alert not yet paired that came
    after it (within ``window`` s): a monitor that lags may raise picture i's alert after picture
    i+1 was sent. Returns the latencies, the pictures without an alert, and alerts left over."""
    found, missed = [], 0
    pending = sorted(opened)
    for at in sent:
        after = [t for t in pending if at <= t < at + window]
        if after:
            found.append(after[0] - at)
            pending.remove(after[0])
        else:
            missed += 1
    return found, missed, len(pending)


def run_latency(args, listed, benign, index):
    print(
        f"encoding a 720p30 stream: {args.seconds:.0f} s of benign pictures, {args.insertions} known ones ...",
        flush=True,
    )
    encoded = ls.encode(
        ls.plan(listed, benign, seconds=args.seconds, insertions=args.insertions, seed=11), size=SIZE
    )
    names = ("RTMP", "RTSP", "RTSP pull", "MPEG-TS/TCP", "HLS")
    if not args.sequential:
        return _latency(encoded, index, names)
    return [row for name in names for row in _latency(encoded, index, (name,))]


def _latency(encoded, index, protocols):
    settings = Settings(open_timeout=2.0, read_timeout=10.0)
    ports = {name: ls.free_port() for name in ("rtmp", "rtsp", "tcp")}
    specs = {
        "RTMP": StreamSpec(f"rtmp://127.0.0.1:{ports['rtmp']}/live/bench", listen=True),
        "RTSP": StreamSpec(f"rtsp://127.0.0.1:{ports['rtsp']}/live", listen=True),
        "MPEG-TS/TCP": StreamSpec(f"tcp://127.0.0.1:{ports['tcp']}", listen=True),
    }
    monitors = {name: Monitor(specs[name], index, settings) for name in protocols if name in specs}
    relay = RtspRelay()
    if "RTSP pull" in protocols:  # the monitor as an RTSP client of a media server (the relay)
        monitors["RTSP pull"] = Monitor(StreamSpec(relay.url("live/bench")), index, settings)
    folder = Path(tempfile.mkdtemp(prefix="openmnr-live-bench-"))
    server, http_port = ls.serve_folder(folder)
    makers = {
        "RTMP": lambda: ls.publish_rtmp(encoded, ports["rtmp"], connect_delay=1.0),
        "RTSP": lambda: ls.publish_rtsp(encoded, ports["rtsp"], connect_delay=1.0),
        "MPEG-TS/TCP": lambda: ls.publish_tcp(encoded, ports["tcp"], connect_delay=1.0),
        "HLS": lambda: ls.publish_hls(encoded, folder, segment_seconds=2),
        "RTSP pull": lambda: ls.Publisher(
            encoded, relay.url("live/bench"), "rtsp", options={"rtsp_transport": "tcp"}, connect_delay=1.0
        ),
    }
    publishers = {name: makers[name]() for name in protocols}
    for publisher in publishers.values():
        publisher.start()
    if "HLS" in protocols:
        while not (folder / "stream.m3u8").exists():
            time.sleep(0.05)
        monitors["HLS"] = Monitor(StreamSpec(f"http://127.0.0.1:{http_port}/stream.m3u8"), index, settings)
    for publisher in publishers.values():
        publisher.finished.wait(encoded.seconds * 3 + 60)
    time.sleep(8)  # the last alerts (HLS: the last segment)
    rows = []
    for name, monitor in monitors.items():
        monitor.stop.set()
        found, missed, unexplained = latencies(publishers[name].sent_known, monitor.opened())
        rows.append(
            {
                "protocol": name,
                "known_sent": len(publishers[name].sent_known),
                "detected": len(found),
                "missed": missed,
                "other_alerts": unexplained,
                "median_s": round(statistics.median(found), 2) if found else None,
                "p95_s": round(percentile(found, 95), 2) if found else None,
                "p99_s": round(percentile(found, 99), 2) if found else None,
                "max_s": round(max(found), 2) if found else None,
                "publisher_error": type(publishers[name].error).__name__ if publishers[name].error else "",
            }
        )
    for monitor in monitors.values():
        monitor.thread.join(15)
    server.shutdown()
    relay.close()
    return rows


def run_pipeline(args, listed, benign, index):
    seconds = args.pipeline_minutes * 60
    print(f"encoding a {seconds:.0f} s benign-only 720p30 stream ...", flush=True)
    encoded = ls.encode(ls.plan([], benign, seconds=seconds, insertions=0, seed=12), size=SIZE)
    # Anchor: decoding alone, every frame, one thread.
    container = av.open(io.BytesIO(encoded.data), format="mpegts")
    container.streams.video[0].codec_context.thread_count = 1
    start = time.process_time()
    frames = 0
    for frame in container.decode(video=0):
        luma_of(frame)
        frames += 1
    decode_cpu = time.process_time() - start
    container.close()
    # The monitor: the same stream through Watcher (file input read as fast as it decodes).
    path = Path(tempfile.mkdtemp(prefix="openmnr-live-bench-")) / "benign.ts"
    path.write_bytes(encoded.data)
    events = []
    watcher = Watcher(StreamSpec(str(path)), index, events.append, Settings())
    start = time.process_time()
    counters = watcher.run()
    monitor_cpu = time.process_time() - start
    path.unlink()
    stream_seconds = frames / encoded.fps
    alerts = sum(1 for event in events if event.kind == "alert_opened")
    return [
        {
            "what": "decode only (anchor)",
            "stream_s": round(stream_seconds, 1),
            "cpu_per_stream_s": round(decode_cpu / stream_seconds, 4),
            "streams_per_core": round(stream_seconds / decode_cpu, 1),
            "sampled": "",
            "false_alerts": "",
        },
        {
            "what": "monitor: decode, sample, PDQ+dihedral, match, rule",
            "stream_s": round(stream_seconds, 1),
            "cpu_per_stream_s": round(monitor_cpu / stream_seconds, 4),
            "streams_per_core": round(stream_seconds / monitor_cpu, 1),
            "sampled": counters.sampled,
            "false_alerts": alerts,
        },
    ]


def _benign_chunk(job):
    """One chunk of the false-alert run, in its own process: a benign-only stream made for it
    (its own seed), written to a file and watched by ``Watcher`` from that file, as fast as it
    decodes. Returns stream seconds, sampled and matching frames, alerts, CPU seconds."""
    seed, seconds, size, fps = job
    _, benign, index = _bank_cached()
    started = time.process_time()
    encoded = ls.encode(ls.plan([], benign, seconds=seconds, insertions=0, seed=seed), size=size, fps=fps)
    encode_cpu = time.process_time() - started
    folder = Path(tempfile.mkdtemp(prefix="openmnr-live-bench-"))
    path = folder / f"benign-{seed}.ts"
    path.write_bytes(encoded.data)
    events = []
    started = time.process_time()
    try:
        counters = Watcher(StreamSpec(str(path)), index, events.append, Settings()).run()
    finally:
        path.unlink()
        folder.rmdir()
    return {
        "stream_s": encoded.seconds,
        "sampled": counters.sampled,
        "matched": counters.matched,
        "alerts": sum(1 for event in events if event.kind == "alert_opened"),
        "monitor_cpu_s": time.process_time() - started,
        "encode_cpu_s": encode_cpu,
    }


_BANK = None


def _bank_cached():
    global _BANK
    if _BANK is None:
        _BANK = bank()
    return _BANK


def run_false_alerts(args):
    """``--benign-hours`` of benign-only streams through the monitor with the default rule (see
    the module docstring, point 3): chunks of ``--chunk-minutes`` in ``--workers`` processes."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    chunk = args.chunk_minutes * 60
    count = max(1, round(args.benign_hours * 3600 / chunk))
    size = tuple(int(part) for part in args.benign_size.split("x"))
    jobs = [(1000 + i, chunk, size, args.benign_fps) for i in range(count)]
    started = time.time()
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        chunks = list(pool.map(_benign_chunk, jobs))
    stream_s = sum(c["stream_s"] for c in chunks)
    monitor_cpu = sum(c["monitor_cpu_s"] for c in chunks)
    return {
        "stream_hours": round(stream_s / 3600, 2),
        "chunks": count,
        "size": args.benign_size,
        "fps": args.benign_fps,
        "sampled_frames": sum(c["sampled"] for c in chunks),
        "frames_matching": sum(c["matched"] for c in chunks),
        "false_alerts": sum(c["alerts"] for c in chunks),
        "rule": f"{Settings().k} of {Settings().w}",
        "speed_x_real_time": round(stream_s / monitor_cpu, 1) if monitor_cpu else None,
        "encode_cpu_s": round(sum(c["encode_cpu_s"] for c in chunks), 1),
        "monitor_cpu_s": round(monitor_cpu, 1),
        "wall_s": round(time.time() - started, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=100.0, help="benign seconds of the latency stream (100)"
    )
    parser.add_argument("--insertions", type=int, default=20, help="known pictures in it (20)")
    parser.add_argument("--pipeline-minutes", type=float, default=1.0)
    parser.add_argument("--benign-hours", type=float, default=10.0, help="false-alert stream-hours (10)")
    parser.add_argument("--chunk-minutes", type=float, default=20.0, help="one benign stream's length (20)")
    parser.add_argument("--benign-size", default="640x360", help="benign streams' frame size (640x360)")
    parser.add_argument("--benign-fps", type=int, default=2, help="benign streams' frame rate (2)")
    parser.add_argument("--workers", type=int, default=2, help="processes for the false-alert run (2)")
    parser.add_argument("--sequential", action="store_true", help="one protocol at a time (less contention)")
    parser.add_argument("--skip", default="", help="comma-separated: latency,pipeline,false")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    listed, benign, index = bank()
    print(
        f"bank: {len(listed)} pictures of sources {', '.join(ls.KNOWN_SOURCES)}; benign: {len(benign)} pictures"
    )
    result = {"load_before": os.getloadavg()}
    if "latency" not in skip:
        rows = run_latency(args, listed, benign, index)
        result["latency"] = rows
        how = "one protocol at a time" if args.sequential else "one 720p30 stream per protocol at once"
        print(f"\nDetection latency, {how} ({load()})")
        print(
            f"{'protocol':<13}{'known sent':>11}{'detected':>9}{'missed':>7}{'other':>6}"
            f"{'median s':>9}{'p95 s':>7}{'p99 s':>7}{'max s':>7}"
        )
        for r in rows:
            cells = "".join(
                f"{r[name] if r[name] is not None else '-':>{width}}"
                for name, width in (("median_s", 9), ("p95_s", 7), ("p99_s", 7), ("max_s", 7))
            )
            print(
                f"{r['protocol']:<13}{r['known_sent']:>11}{r['detected']:>9}{r['missed']:>7}{r['other_alerts']:>6}"
                f"{cells}  {r['publisher_error']}"
            )
    if "pipeline" not in skip:
        rows = run_pipeline(args, listed, benign, index)
        result["pipeline"] = rows
        print(
            f"\nCPU per 720p30 stream, 2 sampled frames/s, one thread, read as fast as it decodes ({load()})"
        )
        print(f"{'':<52}{'stream s':>9}{'CPU s / s':>10}{'streams/core':>13}{'sampled':>8}{'alerts':>7}")
        for r in rows:
            print(
                f"{r['what']:<52}{r['stream_s']:>9}{r['cpu_per_stream_s']:>10}{r['streams_per_core']:>13}"
                f"{r['sampled']!s:>8}{r['false_alerts']!s:>7}"
            )
    if "false" not in skip:
        found = run_false_alerts(args)
        result["false_alerts"] = found
        print(f"\nFalse alerts on benign-only streams through the monitor, faster than real time ({load()})")
        print(
            f"stream-hours {found['stream_hours']} ({found['chunks']} streams, {found['size']} at "
            f"{found['fps']} fps), sampled frames {found['sampled_frames']}, frames matching a bank "
            f"entry {found['frames_matching']}, false alerts ({found['rule']}) {found['false_alerts']}, "
            f"per hour {found['false_alerts'] / max(found['stream_hours'], 1e-9):.3f}"
        )
        print(
            f"monitor {found['speed_x_real_time']}x real time, monitor CPU {found['monitor_cpu_s']} s, "
            f"encoding CPU {found['encode_cpu_s']} s, wall {found['wall_s']} s"
        )
    result["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
