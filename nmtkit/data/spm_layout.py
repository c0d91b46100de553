"""Rewrite a sentencepiece model to nmtkit's special-id layout (pad/unk/bos/eos = 0/1/2/3).

Models trained elsewhere usually keep sentencepiece's defaults (unk/bos/eos = 0/1/2, no pad) or
another layout. Ids are positions in the model's piece list, so the rewrite moves the special
pieces to the front (adding a ``<pad>`` / ``<s>`` / ``</s>`` control piece where the model has
none) and keeps every other piece, with its score and type, in its original order. Segmentation
is unchanged (unigram and BPE both use the pieces' scores, not their positions); only the ids
shift. The result is an ordinary .model file, so encoding stays in sentencepiece's C++ and a
data directory or checkpoint needs nothing beside it.

The edit works on protobuf's wire format (a documented, stable encoding): the top-level
``pieces`` entries (field 1) are reordered, and the new ids and piece names are appended to
``trainer_spec`` (field 2), where protobuf's "last value wins" rule for singular fields applies.
This avoids depending on a protobuf runtime matching the generated code that sentencepiece ships.
"""

from __future__ import annotations

from pathlib import Path

import sentencepiece as spm

from nmtkit.data import specials
from nmtkit.errors import UsageError

NMTKIT_IDS = (specials.PAD_ID, specials.UNK_ID, specials.BOS_ID, specials.EOS_ID)
ROLES = ("pad", "unk", "bos", "eos")
_NAMES = {"pad": specials.PAD, "unk": specials.UNK, "bos": specials.BOS, "eos": specials.EOS}
# TrainerSpec field numbers (sentencepiece_model.proto): *_id and *_piece per role.
_ID_FIELD = {"unk": 40, "bos": 41, "eos": 42, "pad": 43}
_PIECE_FIELD = {"unk": 45, "bos": 46, "eos": 47, "pad": 48}
_CONTROL = 3  # ModelProto.SentencePiece.Type.CONTROL


def special_ids(sp: spm.SentencePieceProcessor) -> tuple[int, int, int, int]:
    """(pad, unk, bos, eos) ids of a loaded model; -1 where it has none."""
    return (sp.pad_id(), sp.unk_id(), sp.bos_id(), sp.eos_id())


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int32 → two's complement, 10 bytes (protobuf's rule)
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(buf: bytes) -> list[tuple[int, bytes, bytes]]:
    """Top-level fields of a message: (number, whole encoded field, payload if length-delimited)."""
    out = []
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        payload = b""
        if wire == 0:
            _, pos = _read_varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            size, pos = _read_varint(buf, pos)
            payload = buf[pos : pos + size]
            pos += size
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise ValueError("truncated field")
        out.append((number, buf[start:pos], payload))
    return out


def _len_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _control_piece(name: str) -> bytes:
    """An encoded ModelProto.SentencePiece {piece: name, score: 0, type: CONTROL}."""
    body = _len_field(1, name.encode()) + _varint(2 << 3 | 5) + b"\0\0\0\0"
    return _len_field(1, body + _varint(3 << 3) + _varint(_CONTROL))


def _piece_name(encoded: bytes) -> str:
    """The piece string of an encoded top-level `pieces` entry (key, length, body)."""
    body = _fields(encoded)[0][2]
    return next(p.decode() for n, _, p in _fields(body) if n == 1)


def relayout(model: bytes, sp: spm.SentencePieceProcessor) -> bytes:
    """`model` (serialized ModelProto, loaded as `sp`) with pad/unk/bos/eos moved to 0/1/2/3."""
    ids = dict(zip(ROLES, special_ids(sp), strict=True))
    fields = _fields(model)
    pieces = [raw for number, raw, _ in fields if number == 1]
    names = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    front: list[bytes] = []
    taken: set[int] = set()
    for role in ROLES:
        if ids[role] >= 0:
            front.append(pieces[ids[role]])
            taken.add(ids[role])
            continue
        name = _NAMES[role]
        if name in names:  # e.g. "<pad>" declared as a control symbol but pad_id=-1
            index = names.index(name)
            if not sp.is_control(index) or index in taken:
                raise ValueError(f"the model has a non-control piece {name!r}")
            front.append(pieces[index])
            taken.add(index)
        else:
            front.append(_control_piece(name))
    rest = [p for i, p in enumerate(pieces) if i not in taken]
    spec = b"".join(_varint(_ID_FIELD[r] << 3) + _varint(i) for r, i in
                    zip(ROLES, NMTKIT_IDS, strict=True))
    spec += b"".join(_len_field(_PIECE_FIELD[r], _piece_name(p).encode())
                     for r, p in zip(ROLES, front, strict=True))
    out = bytearray(b"".join(front + rest))
    for number, raw, payload in fields:
        if number == 2:
            out += _len_field(2, payload + spec)
        elif number != 1:
            out += raw
    if not any(number == 2 for number, _, _ in fields):
        out += _len_field(2, spec)
    return bytes(out)


def to_nmtkit_layout(path: Path, dest: Path) -> tuple[int, int, int, int]:
    """Copy the model at `path` to `dest` in nmtkit's layout; returns the original special ids.

    Raises a UsageError naming `path` if it cannot be read or rewritten.
    """
    if not path.is_file():
        raise UsageError("sentencepiece model not found", file=path)
    data = path.read_bytes()
    try:
        sp = spm.SentencePieceProcessor(model_proto=data)
    except (RuntimeError, OSError) as exc:
        raise UsageError(f"not a sentencepiece model: {exc}", file=path) from None
    original = special_ids(sp)
    if original == NMTKIT_IDS:
        dest.write_bytes(data)
        return original
    try:
        rewritten = relayout(data, sp)
        check = spm.SentencePieceProcessor(model_proto=rewritten)
    except (ValueError, RuntimeError, StopIteration) as exc:
        raise UsageError(
            f"cannot map this model's special ids {original} to nmtkit's {NMTKIT_IDS}: {exc}",
            file=path, fix="let preprocess train a tokenizer instead",
        ) from None
    if special_ids(check) != NMTKIT_IDS:  # pragma: no cover - sentencepiece changed its rules
        raise UsageError(f"rewritten model has special ids {special_ids(check)}", file=path)
    dest.write_bytes(rewritten)
    return original
