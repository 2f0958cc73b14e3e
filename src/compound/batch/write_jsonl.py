"""``compound batch --jsonl``: JSON lines assembled a block at a time, by one Arrow ``take``.

A row's line is a few pieces::

    {"row":7,  "form":"capsules","status":"ok"  ,"rx":"RX1"  ,"inputs":{…},…,"errors":[]  ,"x_ward":"3"  }\\n
    row        head (its group's)                a label     middle (its group's)            carried      end

Heads and middles are made once per group (:func:`compound.batch.spread.plan_groups`);
the row pieces (``{"row":N,``) and the label and carried pieces (``,"rx":"…"``, empty
where the cell is empty: a null drops its key) once per row, by string kernels over
whole columns. Everything sits in one Arrow string array and a block of lines is a
single ``take`` of it: the taken array's data buffer is the block's UTF-8 bytes (the
worksheet's :class:`~compound.batch.write_worksheet.LineBuilder` places string views
instead, and copies each text once).

Text is escaped as ``json.dumps(text, ensure_ascii=False)`` escapes it: ``\\`` and
``"`` get a backslash, ``\\b \\f \\n \\r \\t`` their short forms, the other control
characters below U+0020 ``\\u00XX`` (lower-case hex), everything else (non-ASCII
included, U+2028 too) as it is. Those are single bytes below 0x80, which never occur
inside a multi-byte UTF-8 character, so a byte-wise replacement is exact. Lone
surrogates cannot reach here: Arrow strings are valid UTF-8 (``pa.array`` refuses
them, and the reader refuses a file that encodes one).
"""

from __future__ import annotations

import codecs
import io
import json
import os
from typing import IO, Any, cast

import numpy as np

from compound.batch.arrow import from_numpy

#: JSON's short escapes; any other byte below 0x20 is written ``\\u00xx``.
_SHORT = {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"'}


def _escape_of(byte: int) -> str:
    return _SHORT.get(byte, f"\\u{byte:04x}")


def _large(text: str) -> Any:
    import pyarrow as pa

    return pa.scalar(text, type=pa.large_string())


def _chunks(values: Any) -> list[Any]:
    """A string array or chunked array as a list of ``large_string`` arrays."""
    import pyarrow as pa

    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    return [chunk.cast(pa.large_string()) for chunk in chunks]


def _data(arr: Any) -> np.ndarray:
    """The bytes of a (possibly sliced) large_string array's values."""
    buf = arr.buffers()[2]
    if buf is None or len(arr) == 0:
        return np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)
    first, last = int(offsets[arr.offset]), int(offsets[arr.offset + len(arr)])
    return np.frombuffer(buf, dtype=np.uint8)[first:last]


def escape(arr: Any) -> Any:
    """A large_string array's texts with JSON's escapes, without their quotes (nulls stay null)."""
    import pyarrow.compute as pc

    data = _data(arr)
    special = data[(data < 0x20) | (data == 0x22) | (data == 0x5C)]
    if special.size == 0:
        return arr
    present = np.flatnonzero(np.bincount(special, minlength=256)).tolist()  # np.unique imports numpy.ma
    if 0x5C in present:  # first: the backslashes the other escapes add must stay single
        arr = pc.replace_substring(arr, "\\", "\\\\")
    for byte in present:
        if byte != 0x5C:
            arr = pc.replace_substring(arr, chr(byte), _escape_of(byte))
    return arr


def json_strings(values: Any) -> Any:
    """Each text as ``json.dumps(text, ensure_ascii=False)`` writes it, quotes included.

    ``values``: a pyarrow string array or chunked array; the result is a
    ``large_string`` chunked array, chunk by chunk as given (null stays null).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    quote = _large('"')
    return pa.chunked_array([pc.binary_join_element_wise(quote, escape(chunk), quote, _large(""))
                             for chunk in _chunks(values)], type=pa.large_string())


def key_prefix(name: str) -> str:
    """``,"name":`` as the lines have always written a row's own keys (``json.dumps(name)``)."""
    return "," + json.dumps(name) + ":"


def member_pieces(name: str, values: Any) -> list[Any]:
    """Per row, ``,"name":"text"``, or ``""`` where the cell is empty (the key is left out)."""
    import pyarrow.compute as pc

    prefix, quote = _large(key_prefix(name) + '"'), _large('"')
    out = []
    for chunk in _chunks(values):
        joined = pc.binary_join_element_wise(prefix, escape(chunk), quote, _large(""))
        out.append(pc.fill_null(joined, _large("")) if joined.null_count else joined)
    return out


class JsonLines:
    """Builds blocks of ``--jsonl`` lines from per-group fragments and per-row cells.

    Parameters
    ----------
    heads, middles
        Per group, the JSON of its form and status, and of its inputs to its
        errors (``"a":1,"b":2``, without braces; pyarrow string arrays).
    labels, carried
        Per name, the row's own cells over all rows (pyarrow string arrays,
        null = empty): the label fields, written after the head, and the
        carried-through columns, written after the middle.
    gid
        Each row's group.
    """

    def __init__(self, heads: Any, middles: Any, labels: dict[str, Any], carried: dict[str, Any],
                 gid: np.ndarray) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        n = int(gid.size)
        groups = len(heads)
        self.n = n
        self._gid = np.asarray(gid, dtype=np.int64)
        end = "}\n"
        tail = _large("" if carried else end)
        # A name whose cells are all empty writes nothing: it gets no piece.
        given = {name: v for name, v in {**labels, **carried}.items() if v.null_count < len(v)}
        pieces: list[Any] = [heads.cast(pa.large_string()),
                             pc.binary_join_element_wise(_large(","), middles.cast(pa.large_string()),
                                                         tail, _large("")),
                             pa.array([end], type=pa.large_string())]
        self._end = 2 * groups if carried else None
        numbers = pc.cast(from_numpy(np.arange(1, n + 1, dtype=np.int64)), pa.large_string())
        pieces.append(pc.binary_join_element_wise(_large('{"row":'), numbers, _large(","), _large("")))
        # Where each row's per-row pieces start: row numbers first, then each column in line order.
        self._base = {"row": 2 * groups + 1}
        base = 2 * groups + 1 + n
        for name in [*labels, *carried]:
            if name in given:
                self._base[name] = base
                pieces.extend(member_pieces(name, given[name]))
                base += n
        self._labels = [name for name in labels if name in given]
        self._carried = [name for name in carried if name in given]
        self._groups = groups
        self._pieces = pa.concat_arrays(pieces)

    def block(self, start: int, stop: int) -> memoryview:
        """The UTF-8 bytes of lines ``start`` … ``stop − 1``."""

        rows = np.arange(start, stop, dtype=np.int64)
        gid = self._gid[start:stop]
        order: list[Any] = [self._base["row"] + rows, gid]
        order.extend(self._base[name] + rows for name in self._labels)
        order.append(self._groups + gid)
        order.extend(self._base[name] + rows for name in self._carried)
        if self._end is not None:
            order.append(self._end)
        # int32 indices take faster; a pieces array that large would hold over 2**31 pieces.
        index = np.empty((stop - start, len(order)), dtype=np.int32 if len(self._pieces) < 2**31
                         else np.int64)
        for k, column in enumerate(order):
            index[:, k] = column
        lines = self._pieces.take(from_numpy(index.reshape(-1)))
        return _bytes(lines)


def _bytes(lines: Any) -> memoryview:
    data = lines.buffers()[2]
    if data is None or len(lines) == 0:
        return memoryview(b"")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    return memoryview(data)[int(offsets[lines.offset]):int(offsets[lines.offset + len(lines)])]


def write_lines(stream: IO[str] | IO[bytes], data: memoryview) -> None:
    """Write a block of lines: a binary stream gets the UTF-8 bytes, any other stream text.

    Through a text stream, the text is decoded and encoded again (its encoding and newline
    translation apply, as they always have); a million lines of a couple of kB cost seconds
    there, so :func:`binary_stdout` hands ``compound batch`` stdout's own byte stream.
    """
    if isinstance(stream, io.BufferedIOBase):
        stream.write(data)
        stream.flush()  # as a line-buffered terminal would show it (a block is MBs: this costs nothing)
    elif isinstance(stream, io.RawIOBase):
        while data:  # an unbuffered file may take part of a block at a time
            written = stream.write(data)
            if not written:
                raise OSError("the output stream took no bytes")
            data = data[written:]
    else:
        cast(IO[str], stream).write(str(data, "utf-8"))


def binary_stdout(stream: IO[str]) -> IO[str] | IO[bytes]:
    """The byte stream under a UTF-8 text stream that writes ``\\n`` as it is, else the stream.

    Meant for ``sys.stdout`` (Python's own, or a test runner's), whose newline handling is the
    platform's: on POSIX ``\\n`` stays ``\\n``, so its bytes are the lines' bytes. (A text stream
    opened with ``newline="\\r\\n"`` cannot be told from one that is not: give such streams to
    :func:`~compound.batch.run.run_batch` as they are.) Flushed first, so that what was written
    before comes first.
    """
    buffer = getattr(stream, "buffer", None)
    encoding = getattr(stream, "encoding", None)
    if (buffer is None or not isinstance(stream, io.TextIOWrapper) or encoding is None
            or codecs.lookup(encoding).name != "utf-8" or os.linesep != "\n"):
        return stream
    stream.flush()
    return buffer  # type: ignore[no-any-return]
