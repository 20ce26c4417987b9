package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
)

// A record carries its input and output byte for byte as they came, and decodes to
// what was written, whichever of the two is empty.
func TestRecordCarriesInputAndOutputAsGiven(t *testing.T) {
	now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	in, out := json.RawMessage(`{"html":"<a&b>","n":[1,2]}`), json.RawMessage(`"done"`)
	for _, inv := range []*Invocation{
		{ID: "i1", Tenant: "t", Function: "f", Status: invocation.StatusSucceeded, CreatedAt: now, Input: in, Output: out},
		{ID: "i2", Tenant: "t", Function: "f", Status: invocation.StatusRunning, CreatedAt: now, Input: in},
		{ID: "i3", Tenant: "t", Function: "f", Status: invocation.StatusFailed, CreatedAt: now, Output: out,
			Error: &invocation.ErrorInfo{Kind: "user", Message: `"output":null}`}},
		{ID: "i4", Tenant: "t", Function: "f", Status: invocation.StatusPending, CreatedAt: now},
	} {
		b, err := inv.marshalRecord()
		if err != nil {
			t.Fatal(err)
		}
		if len(inv.Input) > 0 && !bytes.Contains(b, []byte(`"input":`+string(inv.Input))) {
			t.Fatalf("%s: the input is not in the record as given: %s", inv.ID, b)
		}
		var got Invocation
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v in %s", inv.ID, err, b)
		}
		if !reflect.DeepEqual(&got, inv) {
			t.Fatalf("%s: %s decodes to %+v, want %+v", inv.ID, b, got, *inv)
		}
	}
}
