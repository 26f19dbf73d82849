"""Hash-list files round-trip, interoperate with ThreatExchange and reject bad lines by number."""

import hashlib
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from threatexchange.exchanges.impl.file_api import FileCollaborationConfig, LocalFileSignalExchangeAPI
from threatexchange.signal_type.md5 import VideoMD5Signal
from threatexchange.signal_type.pdq.pdq_index2 import PDQIndex2
from threatexchange.signal_type.pdq.signal import PdqSignal
from threatexchange.signal_type.sha256 import VideoSHA256Signal

from openmnr.core import lists, signals
from openmnr.core.index import ExactIndex, PDQIndex
from openmnr.core.lists import HashListError, HashRecord, InvalidValue, MalformedLine, UnknownSignalType
from openmnr.core.signals import SignalError

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def read(reader, text, **options):
    return list(reader(io.StringIO(text, newline=""), **options))


def write(writer, records):
    out = io.StringIO(newline="")
    assert writer(records, out) == len(records)
    return out.getvalue()


hex_digits = st.text("0123456789abcdefABCDEF", min_size=64, max_size=64)
texts = st.text(
    st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"], exclude_characters="=+-@"),
    min_size=1,
    max_size=40,
).filter(lambda t: t.isprintable() and t.strip() == t)
records = st.builds(
    HashRecord,
    signal_type=st.sampled_from(["pdq", "sha256", "url"]),
    value=hex_digits,
    quality=st.none() | st.integers(0, 100),
    classification=st.none() | texts,
    source=st.none() | texts,
) | st.builds(HashRecord, signal_type=st.just("md5"), value=hex_digits.map(lambda v: v[:32]))


@pytest.mark.slow
@settings(max_examples=40)
@given(st.lists(records, max_size=20))
def test_csv_and_json_round_trip(entries):
    assert read(lists.read_csv, write(lists.write_csv, entries)) == entries
    assert read(lists.read_json, write(lists.write_json, entries)) == entries


@settings(max_examples=40)
@given(st.lists(records.filter(lambda r: r.signal_type != "url"), max_size=20))
def test_local_format_round_trips_type_and_value(entries):
    back = read(lists.read_local, write(lists.write_local, entries))
    assert [(r.signal_type, r.value) for r in back] == [(r.signal_type, r.value) for r in entries]


def test_values_are_lower_cased_and_threatexchange_names_used():
    text = write(
        lists.write_local,
        [HashRecord("pdq", PDQ.upper()), HashRecord("md5", MD5), HashRecord("sha256", SHA256)],
    )
    assert text == f"pdq {PDQ}\nvideo_md5 {MD5}\nvideo_sha256 {SHA256}\n"
    assert read(lists.read_local, f"md5 {MD5}\n\n  sha256 {SHA256.upper()}  \n") == [
        HashRecord("md5", MD5),
        HashRecord("sha256", SHA256),
    ]


def test_a_byte_order_mark_is_ignored():
    assert read(lists.read_local, f"\ufeffpdq {PDQ}\n") == [HashRecord("pdq", PDQ)]
    assert read(lists.read_csv, f"\ufeffsignal_type,value\npdq,{PDQ}\n") == [HashRecord("pdq", PDQ)]
    assert read(lists.read_json, f'\ufeff{{"signal_type": "pdq", "value": "{PDQ}"}}\n') == [
        HashRecord("pdq", PDQ)
    ]


def test_csv_from_threatexchange_dataset_export_is_read():
    text = f"signal_type,signal_str,collab,category,tags\npdq,{PDQ},bank,POSITIVE_CLASS,a b\n"
    assert read(lists.read_csv, text) == [HashRecord("pdq", PDQ)]


def test_plain_lists_in_the_shared_vectors(shared):
    folder = shared / "vectors/pdq/hashlists"
    for name, count in (("haystack.txt", 1350), ("needles.txt", 100)):
        with open(folder / name, encoding="utf-8") as f:
            entries = list(lists.read_local(f, signal_type="pdq"))
        assert len(entries) == count and {e.signal_type for e in entries} == {"pdq"}


def threatexchange_reads(path):
    """The signals ThreatExchange's own local-file collaboration finds in a file, by type."""
    collab = FileCollaborationConfig(name="exported bank", filename=str(path))
    api = LocalFileSignalExchangeAPI.for_collab(collab)
    fetched = {}
    for delta in api.fetch_iter([PdqSignal, VideoMD5Signal, VideoSHA256Signal], None):
        fetched.update(delta.updates)
    return LocalFileSignalExchangeAPI.naive_convert_to_signal_type(
        [PdqSignal, VideoMD5Signal, VideoSHA256Signal], collab, fetched
    )


def test_a_bank_exported_in_the_local_format_matches_the_same_items_in_threatexchange(shared, tmp_path):
    with open(shared / "vectors/pdq/hashlists/haystack.txt", encoding="utf-8") as f:
        bank = list(lists.read_local(f, signal_type="pdq"))
    with open(shared / "vectors/pdq/hashlists/needles.txt", encoding="utf-8") as f:
        needles = [r.value for r in lists.read_local(f, signal_type="pdq")]
    digests = np.random.default_rng(1).integers(0, 256, (20, 32), dtype=np.uint8)
    bank += [HashRecord("md5", d[:16].tobytes().hex()) for d in digests[:10]]
    bank += [HashRecord("sha256", d.tobytes().hex()) for d in digests[10:]]
    path = tmp_path / "bank.txt"
    with open(path, "w", encoding="utf-8") as f:
        lists.write_local(bank, f)

    theirs = threatexchange_reads(path)
    assert len(theirs[PdqSignal]) == len({r.value for r in bank if r.signal_type == "pdq"})
    assert len(theirs[VideoMD5Signal]) == len(theirs[VideoSHA256Signal]) == 10

    # Our index over the file we read back, against ThreatExchange's exact PDQ index over what it read.
    with open(path, encoding="utf-8") as f:
        ours = [r for r in lists.read_local(f) if r.signal_type == "pdq"]
    index = PDQIndex.build([r.value for r in ours], range(len(ours)))
    te_index = PDQIndex2.build((value, value) for value in theirs[PdqSignal])
    matched = 0
    for needle, matches in zip(needles, index.query_batch(needles), strict=True):
        mine = {ours[i].value for i in matches.ids}
        assert mine == {m.metadata for m in te_index.query(needle)}
        matched += len(mine)
    assert matched > len(needles) // 2

    md5 = ExactIndex.build(16, [r.value for r in bank if r.signal_type == "md5"], range(10))
    te_md5 = VideoMD5Signal.get_index_cls().build((v, v) for v in theirs[VideoMD5Signal])
    for d in digests[:10]:
        assert len(md5.query(d[:16])) == len(te_md5.query(d[:16].tobytes().hex())) == 1


@pytest.mark.parametrize(
    "reader, text, error, line, options",
    [
        (lists.read_local, f"pdq {PDQ}\n\npdq {PDQ[:-1]}x\n", InvalidValue, 3, {}),
        (lists.read_local, f"pdq {PDQ}\nphotodna {PDQ}\n", UnknownSignalType, 2, {}),
        (lists.read_local, f"url {SHA256}\n", UnknownSignalType, 1, {}),
        (lists.read_local, f"pdq {PDQ} extra\n", MalformedLine, 1, {}),
        (lists.read_local, f"{PDQ}\npdq {PDQ}\n", MalformedLine, 2, {"signal_type": "pdq"}),
        (lists.read_local, f"{PDQ[:32]}\n", InvalidValue, 1, {"signal_type": "pdq"}),
        (lists.read_local, f"video_md5 {PDQ}\n", InvalidValue, 1, {}),
        (lists.read_local, "pdq " + "0" * 5000 + "\n", MalformedLine, 1, {}),
        (lists.read_csv, f"type,value\npdq,{PDQ}\n", MalformedLine, 1, {}),
        (lists.read_csv, f"signal_type,value\npdq,{PDQ}\n\npdq,{PDQ},90\n", MalformedLine, 4, {}),
        (lists.read_csv, f"signal_type,value,quality\npdq,{PDQ},101\n", InvalidValue, 2, {}),
        (lists.read_csv, f"signal_type,value,quality\npdq,{PDQ},high\n", InvalidValue, 2, {}),
        (lists.read_csv, f"signal_type,value,classification\npdq,{PDQ},=cmd()\n", InvalidValue, 2, {}),
        (lists.read_csv, f'signal_type,value\npdq,{PDQ}\npdq,"{PDQ}\n', MalformedLine, 3, {}),
        (lists.read_csv, f"signal_type,value\nsha1,{PDQ}\n", UnknownSignalType, 2, {}),
        (
            lists.read_json,
            f'{{"signal_type": "pdq", "value": "{PDQ}"}}\n{{"signal_type": "pdq"\n',
            MalformedLine,
            2,
            {},
        ),
        (lists.read_json, f'["pdq", "{PDQ}"]\n', MalformedLine, 1, {}),
        (lists.read_json, f'{{"signal_type": "pdq", "value": "{PDQ}", "qualty": 1}}\n', MalformedLine, 1, {}),
        (lists.read_json, '{"signal_type": "pdq"}\n', MalformedLine, 1, {}),
        (
            lists.read_json,
            f'{{"signal_type": "pdq", "value": "{PDQ}", "quality": true}}\n',
            InvalidValue,
            1,
            {},
        ),
        (lists.read_json, f'{{"signal_type": ["pdq"], "value": "{PDQ}"}}\n', UnknownSignalType, 1, {}),
        (lists.read_json, f'{{"signal_type": "md5", "value": "{PDQ}"}}\n', InvalidValue, 1, {}),
    ],
)
def test_bad_lines_raise_typed_errors_with_their_line_number(reader, text, error, line, options):
    with pytest.raises(error) as caught:
        read(reader, text, **options)
    assert isinstance(caught.value, SignalError) and isinstance(caught.value, ValueError)
    assert isinstance(caught.value, HashListError) or type(caught.value) is signals.UnknownSignalType
    assert caught.value.line == line
    assert str(caught.value).startswith(f"line {line}: ")
    assert PDQ[:20] not in str(caught.value), "hash values are never echoed"


def test_readers_stream_and_stop_at_the_first_bad_line():
    def lines():
        yield f"pdq {PDQ}\n"
        yield "pdq nothex\n"
        raise AssertionError("read past the bad line")

    entries = lists.read_local(lines())
    assert next(entries) == HashRecord("pdq", PDQ)
    with pytest.raises(InvalidValue):
        next(entries)


def test_records_are_checked_when_made_and_written():
    with pytest.raises(InvalidValue):
        HashRecord("pdq", PDQ, quality=-1)
    with pytest.raises(InvalidValue):
        HashRecord("pdq", PDQ, source="line\nbreak")
    with pytest.raises(UnknownSignalType):
        HashRecord("tmk", PDQ)
    with pytest.raises(InvalidValue, match="carries its frames"):
        HashRecord("vpdq", PDQ)
    with pytest.raises(InvalidValue, match="only vpdq records carry frames"):
        HashRecord("pdq", PDQ, frames=f"0,100,{PDQ},0.000\n")
    with pytest.raises(UnknownSignalType, match="record 2"):
        write(lists.write_local, [HashRecord("pdq", PDQ), HashRecord("url", SHA256)])


def test_a_vpdq_record_goes_through_json_lines_and_is_refused_by_the_other_formats(shared):
    text = (shared / "vectors" / "pdq" / "video" / "doorknob-hd-no-bar.vpdq.txt").read_text()
    record = HashRecord("vpdq", None, classification="baseline", frames=text.replace("\n", "\r\n"))
    canonical = "".join(line + "\n" for line in text.splitlines())
    assert record.frames == canonical  # the canonical text form, whatever the line endings
    assert record.value == hashlib.sha256(canonical.encode()).hexdigest()
    line = write(lists.write_json, [record])
    assert len(line) > lists.MAX_LINE and read(lists.read_json, line) == [record]
    assert read(lists.read_json, line.replace(f'"value": "{record.value}", ', "")) == [record]
    with pytest.raises(InvalidValue, match="SHA-256 of its canonical frames"):
        read(lists.read_json, line.replace(record.value, "0" * 64))

    with pytest.raises(UnknownSignalType, match="local file format cannot carry vpdq"):
        write(lists.write_local, [record])
    with pytest.raises(UnknownSignalType, match="CSV cannot carry vpdq"):
        write(lists.write_csv, [record])
    with pytest.raises(UnknownSignalType, match="line 2"):
        read(lists.read_csv, f"signal_type,value\nvpdq,{record.value}\n")
    with pytest.raises(UnknownSignalType, match="line 1"):
        read(lists.read_local, f"vpdq {record.value}\n")
