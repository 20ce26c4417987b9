package plugintest

import (
	"testing"
	"time"

	"github.com/sous-run/sous/sdk"
)

// commandSubset checks that a consumer gets only the commands it subscribed to (Sous
// queues one command per function, and a worker may serve some functions only): the
// other command's task stays pending, counted in its own Stats, until a consumer that
// subscribes again with both commands gets it.
func (s *msuite) commandSubset(t *testing.T) {
	a := s.scope(t)
	b := *a
	b.cmd = a.cmd + ".other"
	idB := b.enqueue(sdk.Task{Payload: []byte(`{"fn":"b"}`), Priority: 9}).ID
	idA := a.enqueue(sdk.Task{Payload: []byte(`{"fn":"a"}`)}).ID
	ca := a.consumer(30*time.Second, 5)
	dA := ca.Next()
	wantDelivery(t, dA, idA, 1)
	if dA.Task.Command != a.cmd {
		t.Fatalf("delivery of task %s says command %q, want %q", idA, dA.Task.Command, a.cmd)
	}
	ca.None(500*time.Millisecond, "a consumer of one command got another command's task")
	b.wantStatus(idB, "pending")
	b.wantStats(1, 0, 0, 0)
	a.wantStats(0, 1, 0, 0)
	a.mustAck(dA)
	ca.Close()
	both := OpenConsumer(t, s.m, a.tenant, []string{a.cmd, b.cmd}, 30*time.Second, 5, s.o.Wait)
	dB := both.Next()
	wantDelivery(t, dB, idB, 1)
	if dB.Task.Command != b.cmd {
		t.Fatalf("delivery of task %s says command %q, want %q", idB, dB.Task.Command, b.cmd)
	}
	b.mustAck(dB)
	both.None(300*time.Millisecond, "a task delivered again after its Ack")
}
