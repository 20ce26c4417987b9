package envelope

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func TestValidateRejectsBadEnvelopes(t *testing.T) {
	bad := []string{
		`{"type":"nope"}`,
		`{"type":"log","stream":"fd9","text":"x"}`,
		`{"type":"error","message":"x","kind":"weird"}`,
		`{"type":"error","kind":"user"}`,
		`{"type":"chunk","seq":1}`,
		`{"type":"status"}`,
		`not json`,
	}
	for _, s := range bad {
		if _, err := Unmarshal([]byte(s)); err == nil {
			t.Errorf("Unmarshal(%s) accepted an invalid envelope", s)
		}
	}
}

func TestNDJSONRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	in := []*Envelope{
		{Type: TypeStatus, Status: "running", Attempt: 1, Worker: "w-1"},
		{Type: TypeLog, Stream: "stdout", Text: "hello\nworld", TS: 1700000000123},
		{Type: TypeChunk, Data: []byte(`"tok"`), Seq: 1},
		{Type: TypeResult, Output: []byte(`{"a":1}`), DurationMS: 12},
		Done(),
	}
	for _, e := range in {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != len(in) {
		t.Fatalf("want %d lines, got %d", len(in), n)
	}
	r := NewReader(&buf, 0)
	for i, want := range in {
		got, err := r.Read()
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if got.Type != want.Type || got.Text != want.Text || string(got.Output) != string(want.Output) || got.Seq != want.Seq {
			t.Fatalf("line %d: got %+v want %+v", i, got, want)
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
}

func TestReaderRefusesOverlongLine(t *testing.T) {
	line := `{"type":"log","stream":"stdout","text":"` + strings.Repeat("x", 200) + `"}` + "\n"
	r := NewReader(strings.NewReader(line), 64)
	if _, err := r.Read(); err == nil || err == io.EOF {
		t.Fatalf("want a too-long error, got %v", err)
	}
}
