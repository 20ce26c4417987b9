package driver_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/sous-run/sous/sdk"
)

// On SIGTERM the plugin abandons the leases it holds: another worker gets the task at
// once (long before its 60 s lease ends), and the abandoned claim is not counted.
func TestShutdownAbandonsLeases(t *testing.T) {
	a := freeAddrs(t)
	startBrokerProc(t, a)
	cfg := func(id string) string {
		return fmt.Sprintf(`{"producer_addr":%q,"worker_addr":%q,"http_addr":%q,"jwt_key":%q,"tenant":"acme","worker_id":%q}`, a.producer, a.worker, a.http, testKey, id)
	}
	first := launch(t, cfg("first"))
	id := enqueue(t, first, sdk.Task{}).ID
	k := consume(t, first, 60)
	k.Credit(1)
	if d := k.Next(); d.Task.ID != id {
		t.Fatalf("got %v", d)
	}
	if err := syscall.Kill(first.Pid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first plugin to exit", first.Exited)
	second := launch(t, cfg("second"))
	k2 := consume(t, second, 60)
	k2.Credit(1)
	d := k2.Next() // waits at most 20 s, well inside the 60 s lease

	if d.Task.ID != id || d.Task.Attempt != 1 {
		t.Fatalf("second worker got %v, want %s attempt 1", d, id)
	}
}
