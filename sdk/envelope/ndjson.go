package envelope

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// MaxLine is the longest NDJSON line the Reader accepts by default (16 MiB).
const MaxLine = 16 << 20

// Writer writes envelopes as NDJSON, one object a line.
type Writer struct{ w *bufio.Writer }

// NewWriter returns a Writer on w. Call Flush to push buffered lines.
func NewWriter(w io.Writer) *Writer { return &Writer{w: bufio.NewWriter(w)} }

// Write encodes one envelope and a newline.
func (w *Writer) Write(e *Envelope) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode envelope: %w", err)
	}
	if _, err := w.w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write envelope: %w", err)
	}
	return nil
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error { return w.w.Flush() }

// Reader reads NDJSON envelopes.
type Reader struct{ s *bufio.Scanner }

// NewReader returns a Reader on r that accepts lines up to maxLine bytes (0: MaxLine).
func NewReader(r io.Reader, maxLine int) *Reader {
	if maxLine <= 0 {
		maxLine = MaxLine
	}
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, min(64<<10, maxLine)), maxLine)
	return &Reader{s: s}
}

// ReadRaw returns the next non-empty line as it was written; io.EOF at the end.
// The slice is only valid until the next call.
func (r *Reader) ReadRaw() ([]byte, error) {
	for r.s.Scan() {
		if b := r.s.Bytes(); len(b) > 0 {
			return b, nil
		}
	}
	if err := r.s.Err(); err != nil {
		return nil, fmt.Errorf("read envelope line: %w", err)
	}
	return nil, io.EOF
}

// Read returns the next envelope, validated; io.EOF at the end.
func (r *Reader) Read() (*Envelope, error) {
	b, err := r.ReadRaw()
	if err != nil {
		return nil, err
	}
	return Unmarshal(b)
}
