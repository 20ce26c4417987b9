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
	b = appendStr(b, "id", inv.ID, false)
	b = appendStr(b, "tenant", inv.Tenant, false)
	b = appendStr(b, "function", inv.Function, false)
	b = rawjson.AppendInt(rawjson.AppendKey(b, "version"), int64(inv.Version))
	b = appendStr(b, "digest", inv.Digest, true)
	b = appendStr(b, "env", inv.Env, true)
	b = appendStr(b, "status", string(inv.Status), false)
	if inv.Error != nil {
		if b, err = rawjson.AppendValue(rawjson.AppendKey(b, "error"), inv.Error); err != nil {
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
	if inv.DurationMS != 0 {
		b = rawjson.AppendInt(rawjson.AppendKey(b, "duration_ms"), inv.DurationMS)
	}
	b = rawjson.AppendInt(rawjson.AppendKey(b, "attempts"), int64(inv.Attempts))
	b = appendStr(b, "idempotency_key", inv.IdempotencyKey, true)
	b = appendStr(b, "trigger", inv.Trigger, true)
	if b, err = appendTime(b, "tick_at", inv.TickAt); err != nil {
		return nil, err
	}
	if inv.Callback != nil {
		if b, err = rawjson.AppendValue(rawjson.AppendKey(b, "callback"), inv.Callback); err != nil {
			return nil, err
		}
	}
	if len(inv.Input) > 0 {
		b = append(rawjson.AppendKey(b, "input"), inv.Input...)
	}
	if len(inv.Output) > 0 {
		b = append(rawjson.AppendKey(b, "output"), inv.Output...)
	}
	return append(b, '}'), nil
}

// appendStr appends a string member; omitEmpty leaves out an empty one.
func appendStr(b []byte, key, v string, omitEmpty bool) []byte {
	if omitEmpty && v == "" {
		return b
	}
	return rawjson.AppendString(rawjson.AppendKey(b, key), v)
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
