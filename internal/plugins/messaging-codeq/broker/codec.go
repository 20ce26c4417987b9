package broker

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// recordV1 is the first byte of a record in the binary encoding. Records written before
// it are JSON objects (they start with '{') and are still read.
const recordV1 = 1

// appendRecord appends r's binary encoding to dst: varints for numbers, length-prefixed
// strings and bytes, in field order. No base64 and no field names: a third of the bytes
// of JSON for a small payload, and no reflection.
func appendRecord(dst []byte, r *record) []byte {
	dst = append(dst, recordV1)
	for _, s := range []string{r.ID, r.Tenant, r.Command} {
		dst = appendBytes(dst, s)
	}
	dst = appendBytes(dst, r.Payload)
	for _, n := range []int64{int64(r.Priority), int64(r.MaxAttempts), int64(r.Attempts)} {
		dst = binary.AppendVarint(dst, n)
	}
	for _, s := range []string{r.Status, r.WorkerID} {
		dst = appendBytes(dst, s)
	}
	dst = binary.AppendVarint(dst, r.LeaseUntil)
	dst = binary.AppendVarint(dst, r.VisibleAt)
	dst = appendBytes(dst, r.IdemKey)
	dst = binary.AppendUvarint(dst, r.Seq)
	for _, n := range []int64{r.CreatedAt, r.UpdatedAt, r.CompletedAt} {
		dst = binary.AppendVarint(dst, n)
	}
	dst = appendBytes(dst, r.Result)
	return appendBytes(dst, r.Error)
}

func appendBytes[T string | []byte](dst []byte, b T) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// decodeRecord reads a record in either encoding. Nothing in r aliases b.
func decodeRecord(b []byte, r *record) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, r)
	}
	if len(b) == 0 || b[0] != recordV1 {
		return errors.New("unknown record encoding")
	}
	d := decoder{b: b[1:]}
	r.ID, r.Tenant, r.Command = d.str(), d.str(), d.str()
	r.Payload = d.bytes()
	r.Priority, r.MaxAttempts, r.Attempts = d.int32(), d.int32(), d.int32()
	r.Status, r.WorkerID = d.str(), d.str()
	r.LeaseUntil, r.VisibleAt = d.varint(), d.varint()
	r.IdemKey = d.str()
	r.Seq = d.uvarint()
	r.CreatedAt, r.UpdatedAt, r.CompletedAt = d.varint(), d.varint(), d.varint()
	r.Result = d.bytes()
	r.Error = d.str()
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes after the last field", len(d.b))
	}
	return d.err
}

// decoder reads the binary encoding; the first error sticks and later reads are zero.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("record ends early")

func (d *decoder) uvarint() uint64 { return readVarint(d, binary.Uvarint) }
func (d *decoder) varint() int64   { return readVarint(d, binary.Varint) }

func readVarint[T uint64 | int64](d *decoder, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int32() int32 { return int32(d.varint()) }

// raw returns the next length-prefixed field, aliasing d.b.
func (d *decoder) raw() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) str() string { return string(d.raw()) }

// bytes returns a copy of the next length-prefixed field, nil when it is empty.
func (d *decoder) bytes() []byte {
	if b := d.raw(); len(b) > 0 {
		return append([]byte(nil), b...)
	}
	return nil
}
