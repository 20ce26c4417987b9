package store

import (
	"time"

	"github.com/sous-run/sous/sdk/rawjson"
)

// appendRecord appends the record byte for byte as rawjson.Marshal writes it (the
// struct's fields in order, omitempty kept), with its input and output as they came
// (see marshalRecord), without its reflection: two writes per invocation on the hot
// path.
func (inv *Invocation) appendRecord(b []byte) ([]byte, error) {
	var err error
	b = append(b, '{')
	b = rawjson.AppendStringField(b, "id", inv.ID, false)
	b = rawjson.AppendStringField(b, "tenant", inv.Tenant, false)
	b = rawjson.AppendStringField(b, "function", inv.Function, false)
	b = rawjson.AppendIntField(b, "version", int64(inv.Version), false)
	b = rawjson.AppendStringField(b, "digest", inv.Digest, true)
	b = rawjson.AppendStringField(b, "env", inv.Env, true)
	b = rawjson.AppendStringField(b, "status", string(inv.Status), false)
	if inv.Error != nil {
		if b, err = rawjson.AppendValueField(b, "error", inv.Error); err != nil {
			return nil, err
		}
	}
	if b, err = appendTime(b, "created_at", &inv.CreatedAt); err != nil {
		return nil, err
	}
	if b, err = appendTime(b, "started_at", inv.StartedAt); err != nil {
		return nil, err
	}
	if b, err = appendTime(b, "finished_at", inv.FinishedAt); err != nil {
		return nil, err
	}
	b = rawjson.AppendIntField(b, "duration_ms", inv.DurationMS, true)
	b = rawjson.AppendIntField(b, "attempts", int64(inv.Attempts), false)
	b = rawjson.AppendStringField(b, "idempotency_key", inv.IdempotencyKey, true)
	b = rawjson.AppendStringField(b, "trigger", inv.Trigger, true)
	if b, err = appendTime(b, "tick_at", inv.TickAt); err != nil {
		return nil, err
	}
	if inv.Callback != nil {
		if b, err = rawjson.AppendValueField(b, "callback", inv.Callback); err != nil {
			return nil, err
		}
	}
	b = rawjson.AppendRawField(b, "input", inv.Input)
	b = rawjson.AppendRawField(b, "output", inv.Output)
	return append(b, '}'), nil
}

// appendTime appends a time member as time.Time's MarshalJSON writes it; nil is left
// out.
func appendTime(b []byte, key string, t *time.Time) ([]byte, error) {
	if t == nil {
		return b, nil
	}
	if y := t.Year(); y >= 0 && y <= 9999 {
		if _, off := t.Zone(); off > -24*3600 && off < 24*3600 {
			b = append(rawjson.AppendKey(b, key), '"')
			return append(t.AppendFormat(b, time.RFC3339Nano), '"'), nil
		}
	}
	v, err := t.MarshalJSON() // its error names what is out of range
	if err != nil {
		return nil, err
	}
	return append(rawjson.AppendKey(b, key), v...), nil
}
