package driver_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
)

// brokerProc is the standalone broker (cmd/codeq-broker) in its own process.
type brokerProc struct {
	t    *testing.T
	bin  string
	args []string
	cmd  *exec.Cmd
	a    addrs
}

func startBrokerProc(t *testing.T, a addrs) *brokerProc {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte(testKey), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &brokerProc{t: t, a: a, bin: testenv.Binary(t, "internal/plugins/messaging-codeq/cmd/codeq-broker", "codeq-broker"),
		args: []string{"-data", filepath.Join(dir, "data"), "-jwt-key-file", key, "-producer", a.producer, "-worker", a.worker, "-http", a.http, "-backoff-base", "100ms"}}
	p.start()
	t.Cleanup(p.kill)
	return p
}

func (p *brokerProc) start() {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stderr = os.Stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	testenv.WaitTCP(p.t, p.a.http, 20*time.Second)
}

// kill sends SIGKILL: no shutdown code runs.
func (p *brokerProc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}

// The broker is SIGKILLed mid-load and restarted: every task Enqueue accepted completes.
func TestBrokerSIGKILLLosesNoTask(t *testing.T) {
	const n = 300
	a := freeAddrs(t)
	bp := startBrokerProc(t, a)
	c := launch(t, fmt.Sprintf(`{"producer_addr":%q,"worker_addr":%q,"http_addr":%q,"jwt_key":%q,"tenant":"acme","worker_id":"crash-worker"}`, a.producer, a.worker, a.http, testKey))

	var mu sync.Mutex
	ids := map[string]bool{}
	acked := map[string]bool{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { // producer: every task retried with its idempotency key until accepted
		for i := 0; i < n && ctx.Err() == nil; i++ {
			for ctx.Err() == nil {
				cctx, stop := context.WithTimeout(ctx, 10*time.Second)
				r, err := c.Messaging.Enqueue(cctx, sdk.Task{Tenant: "acme", Command: cmd, IdempotencyKey: fmt.Sprintf("task-%d", i), Payload: []byte(`{}`)})
				stop()
				if err == nil {
					mu.Lock()
					ids[r.ID] = true
					mu.Unlock()
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}()
	k := consume(t, c, 2)
	k.Credit(16)
	go func() { // worker: ack everything, retrying while the broker is down
		for d := range k.Deliveries() {
			for ctx.Err() == nil {
				cctx, stop := context.WithTimeout(ctx, 10*time.Second)
				err := c.Messaging.Ack(cctx, sdk.Lease{Tenant: "acme", TaskID: d.Task.ID, ID: d.Lease.ID}, []byte(`{"done":true}`))
				stop()
				if err == nil {
					mu.Lock()
					acked[d.Task.ID] = true
					mu.Unlock()
				}
				if err == nil || !strings.Contains(err.Error(), "Unavailable") {
					break // done, or refused (lease lost): the task comes back
				}
				time.Sleep(50 * time.Millisecond)
			}
			k.Credit(1)
		}
	}()
	eventually(t, "some tasks acked", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 60 })
	bp.kill()
	eventually(t, "health to report the outage", func() bool {
		h, err := c.Health(ctxT(t))
		return err == nil && !h.Healthy && strings.Contains(h.Reason, "stream down")
	})
	bp.start()
	// An ack applied just before the kill may have lost its reply (the retry is then
	// refused as not-in-progress), so completion is read from the broker, not the acks.
	eventually(t, "every accepted task to complete", func() bool {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) < n {
			return false
		}
		for id := range ids {
			if !acked[id] {
				if result(t, c, id).Status != "completed" {
					return false
				}
				acked[id] = true
			}
		}
		return true
	})
	if h, err := c.Health(ctxT(t)); err != nil || !h.Healthy {
		t.Fatalf("health after restart: %v %v", h, err)
	}
}
