// Package envelope defines the typed event that flows harness -> executor -> worker ->
// events driver -> client, with validation and an NDJSON codec.
package envelope

import (
	"encoding/json"
	"fmt"

	"github.com/sous-run/sous/sdk/rawjson"
)

// Envelope types.
const (
	TypeStatus = "status"
	TypeLog    = "log"
	TypeChunk  = "chunk"
	TypeResult = "result"
	TypeError  = "error"
	TypeDone   = "done"
)

// Error kinds.
const (
	KindUser    = "user"
	KindTimeout = "timeout"
	KindCrash   = "crash"
	KindLimit   = "limit"
	KindInfra   = "infra"
)

// Envelope is one event of an invocation. Which fields are set depends on Type.
type Envelope struct {
	Type string `json:"type"`
	// ID is the id the events driver gave the event (not stored inside the event itself).
	ID string `json:"id,omitempty"`

	// status
	Status  string `json:"status,omitempty"`
	Attempt int    `json:"attempt,omitempty"`
	Worker  string `json:"worker,omitempty"`

	// log
	Stream string `json:"stream,omitempty"` // stdout | stderr
	Text   string `json:"text,omitempty"`
	TS     int64  `json:"ts,omitempty"` // unix milliseconds

	// chunk: Data is any JSON value; Seq counts from 1 within an attempt.
	Data json.RawMessage `json:"data,omitempty"`
	Seq  int64           `json:"seq,omitempty"`

	// result
	Output     json.RawMessage `json:"output,omitempty"`
	DurationMS int64           `json:"duration_ms,omitempty"`

	// error
	Message string `json:"message,omitempty"`
	Kind    string `json:"kind,omitempty"`
	Stack   string `json:"stack,omitempty"`
}

// Validate reports what is wrong with an envelope, or nil.
func (e *Envelope) Validate() error { return e.validate(true) }

// validate is Validate; checkJSON re-checks that data and output are valid JSON,
// which an envelope fresh from Unmarshal already guarantees (it checks the whole
// document before decoding), so Unmarshal skips a second pass over a large output.
func (e *Envelope) validate(checkJSON bool) error {
	switch e.Type {
	case TypeStatus:
		if e.Status == "" {
			return fmt.Errorf("status envelope: missing status")
		}
	case TypeLog:
		if e.Stream != "stdout" && e.Stream != "stderr" {
			return fmt.Errorf("log envelope: stream must be stdout or stderr, got %q", e.Stream)
		}
	case TypeChunk:
		if len(e.Data) == 0 {
			return fmt.Errorf("chunk envelope: missing data")
		}
		if checkJSON && !rawjson.Valid(e.Data) {
			return fmt.Errorf("chunk envelope: data is not valid JSON")
		}
	case TypeResult:
		if checkJSON && len(e.Output) != 0 && !rawjson.Valid(e.Output) {
			return fmt.Errorf("result envelope: output is not valid JSON")
		}
	case TypeError:
		if e.Message == "" {
			return fmt.Errorf("error envelope: missing message")
		}
		switch e.Kind {
		case KindUser, KindTimeout, KindCrash, KindLimit, KindInfra:
		default:
			return fmt.Errorf("error envelope: kind must be one of user|timeout|crash|limit|infra, got %q", e.Kind)
		}
	case TypeDone:
	default:
		return fmt.Errorf("envelope: unknown type %q (want status|log|chunk|result|error|done)", e.Type)
	}
	return nil
}

// Terminal reports whether the envelope ends a run (result or error).
func (e *Envelope) Terminal() bool { return e.Type == TypeResult || e.Type == TypeError }

// Marshal encodes an envelope as one JSON object (no trailing newline).
func Marshal(e *Envelope) ([]byte, error) { return json.Marshal(e) }

// Unmarshal decodes and validates one JSON envelope.
func Unmarshal(b []byte) (*Envelope, error) {
	var e Envelope
	if !rawjson.Valid(b) || !e.decode(b) {
		e = Envelope{} // what decode does not read, encoding/json does (and says what is wrong)
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("decode envelope: %w", err)
		}
	}
	if err := e.validate(false); err != nil {
		return nil, err
	}
	return &e, nil
}

// Done returns the done envelope.
func Done() *Envelope { return &Envelope{Type: TypeDone} }

// Errorf returns an error envelope of the given kind.
func Errorf(kind, format string, args ...any) *Envelope {
	return &Envelope{Type: TypeError, Kind: kind, Message: fmt.Sprintf(format, args...)}
}
