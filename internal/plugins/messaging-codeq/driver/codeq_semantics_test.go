package driver

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/plugins/messaging-codeq/client"
)

// codeQ keeps run_at in truncated Unix seconds: the driver rounds up so a delayed task
// never runs early (a 1.5 s delay once ran after 0.62 s).
func TestRunAtNeverEarly(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 10, 400_000_000, time.UTC)
	for _, ms := range []int64{1, 600, 1500, 2000} {
		at := runAt(now, ms)
		due := now.Add(time.Duration(ms) * time.Millisecond)
		if at.Nanosecond() != 0 || at.Before(due) || at.Sub(due) >= time.Second {
			t.Fatalf("delay %d ms from %s: run_at %s, want the first whole second not before %s", ms, now, at, due)
		}
	}
}

// codeQ counts claims, Nacks and expiries; a Sous attempt is one delivery.
func TestAttemptsFromCodeQ(t *testing.T) {
	if got := codeqMaxAttempts(2, 5); got != 4 {
		t.Fatalf("codeQ max_attempts for 2 deliveries = %d, want 4", got)
	}
	if got := codeqMaxAttempts(0, 0); got != 2*defaultMaxAttempts {
		t.Fatalf("default codeQ max_attempts = %d", got)
	}
	// claim 1 → 1; nack → 2; claim → 3; nack at max 4 → dead with 4.
	for codeq, sous := range map[int32]int32{1: 1, 2: 1, 3: 2, 4: 2, 5: 3} {
		if got := sousAttempts(codeq); got != sous {
			t.Fatalf("sousAttempts(%d) = %d, want %d", codeq, got, sous)
		}
	}
}

// The Sous status comes from codeQ's status and lastKnownLocation.
func TestStatusFromLocation(t *testing.T) {
	for _, c := range []struct{ status, loc, want string }{
		{"PENDING", client.LocationPending, "pending"},
		{"PENDING", client.LocationDelayed, "delayed"},
		{"IN_PROGRESS", client.LocationInProgress, "in_progress"},
		{"COMPLETED", "NONE", "completed"},
		{"FAILED", "NONE", "failed"},
		{"FAILED", client.LocationDLQ, "dead"},
	} {
		if got := statusOf(&client.TaskView{Status: c.status, LastKnownLocation: c.loc}); got != c.want {
			t.Fatalf("%s in %s = %q, want %q", c.status, c.loc, got, c.want)
		}
	}
}

// codeQ's REST payload is a JSON string: a wrapped task must still show its Sous tenant.
func TestRESTPayloadStringUnwraps(t *testing.T) {
	var tv client.TaskView
	body := `{"id":"x","payload":"{\"_sous_tenant\":\"t2\",\"_sous_payload\":{\"n\":1}}","tenantId":"acme","status":"PENDING"}`
	if err := json.Unmarshal([]byte(body), &tv); err != nil {
		t.Fatal(err)
	}
	if tenant, payload := unwrapPayload(tv.TenantID, []byte(tv.Payload)); tenant != "t2" || string(payload) != `{"n":1}` {
		t.Fatalf("unwrapped %q %s, want tenant t2 payload {\"n\":1}", tenant, payload)
	}
}
