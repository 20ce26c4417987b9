package queue

import (
	"context"
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

// A claim without upkeep only leases: a delayed task that came due waits for the next
// claim with upkeep, which promotes and leases it.
func TestClaimUpkeepOnlyWhenAsked(t *testing.T) {
	ctx := context.Background()
	q := testQueue(t)
	if _, _, err := q.Enqueue(ctx, sdk.Task{Tenant: "acme", Command: "c", Payload: []byte(`{}`), Delay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // the task is due
	cl, err := q.Claim(ctx, "acme", []string{"c"}, 8, time.Minute, "w1", false)
	if err != nil || len(cl.Tasks) != 0 || cl.Wake != -2 {
		t.Fatalf("claim without upkeep = %d tasks, wake %v, %v; want none, not looked at", len(cl.Tasks), cl.Wake, err)
	}
	cl, err = q.Claim(ctx, "acme", []string{"c"}, 8, time.Minute, "w1", true)
	if err != nil || len(cl.Tasks) != 1 {
		t.Fatalf("claim with upkeep = %d tasks, %v; want the due task", len(cl.Tasks), err)
	}
	if cl.Wake <= 0 || cl.Wake > time.Minute {
		t.Fatalf("wake %v; want the new lease's expiry, within a minute", cl.Wake)
	}
}
