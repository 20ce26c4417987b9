package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/sdk/rawjson"
)

// byReflection is the record as encoding/json writes it (the reference).
func byReflection(inv *Invocation) ([]byte, error) {
	head := *inv
	head.Input, head.Output = nil, nil
	return rawjson.MarshalWith(&head, rawjson.Field{Key: "input", Raw: inv.Input}, rawjson.Field{Key: "output", Raw: inv.Output})
}

// The record's writer gives encoding/json's bytes for every record: strings that need
// escaping, empty and set optional fields, nested values, input and output.
func FuzzRecordAsEncodingJSON(f *testing.F) {
	f.Add("01a2", "acme", "fn", "sha256:ab", "", "key", "schedule:x", 3, int64(0), 1, false, false, []byte(`{"a":1}`), []byte(nil), int64(1796379824), 3600)
	f.Add("i\"d", "t\n", "f<>&", "\u2028", "é\xff", "\\", "\x00", -1, int64(12), 0, true, true, []byte(nil), []byte(`[1]`), int64(-62135596801), -86400)
	f.Add("x", "t", "f", "", "", "", "", 0, int64(0), 0, false, true, []byte(nil), []byte(nil), int64(253402300800), 0)
	f.Fuzz(func(t *testing.T, id, tenant, fn, digest, env, idem, trigger string, version int, dur int64, attempts int, withErr, withTimes bool, input, output []byte, sec int64, off int) {
		inv := &Invocation{ID: id, Tenant: tenant, Function: fn, Version: version, Digest: digest, Env: env,
			Status: invocation.StatusRunning, CreatedAt: time.Unix(1796379823, 123456789).UTC(), DurationMS: dur,
			Attempts: attempts, IdempotencyKey: idem, Trigger: trigger}
		if json.Valid(input) && !bytes.ContainsAny(input, "\r\n") {
			inv.Input = input
		}
		if json.Valid(output) && !bytes.ContainsAny(output, "\r\n") {
			inv.Output = output
		}
		if withErr {
			inv.Error = &invocation.ErrorInfo{Kind: env, Message: id, Stack: trigger}
			inv.Callback = &Callback{URL: fn, Status: "pending", Attempts: attempts}
		}
		if withTimes {
			at := time.Unix(sec, 5).In(time.FixedZone("x", off))
			inv.StartedAt, inv.FinishedAt, inv.TickAt = &at, &at, &at
		}
		got, gerr := inv.marshalRecord()
		want, werr := byReflection(inv)
		if (gerr == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("record\n got %s (%v)\nwant %s (%v)", got, gerr, want, werr)
		}
	})
}

func BenchmarkMarshalRecord(b *testing.B) {
	at := time.Now()
	inv := &Invocation{ID: "01a2409f877f0000768e4c1d2e3f", Tenant: "default", Function: "bench-python", Version: 1,
		Digest: "sha256:0123456789abcdef", Env: "prod", Status: invocation.StatusSucceeded, CreatedAt: at,
		StartedAt: &at, FinishedAt: &at, DurationMS: 1, Attempts: 1, Input: []byte(`{"ping":1}`), Output: []byte(`{"ping":1}`)}
	b.Run("append", func(b *testing.B) {
		for range b.N {
			if _, err := inv.marshalRecord(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for range b.N {
			if _, err := byReflection(inv); err != nil {
				b.Fatal(err)
			}
		}
	})
}
