package driver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/testenv"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/plugintest"
)

const (
	testKey = "driver-test-shared-key"
	cmd     = "sous.run.test"
)

// addrs are the three broker addresses of one test.
type addrs struct{ producer, worker, http string }

func freeAddrs(t testing.TB) addrs {
	p := func() string { return fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)) }
	return addrs{p(), p(), p()}
}

// embedded is a config that starts the embedded broker on a, with extra keys merged in.
func embedded(a addrs, extra map[string]any) string {
	c := map[string]any{"embedded": true, "producer_addr": a.producer, "worker_addr": a.worker, "http_addr": a.http,
		"jwt_key": testKey, "tenant": "acme", "backoff_base": "100ms"}
	for k, v := range extra {
		c[k] = v
	}
	b, _ := json.Marshal(c)
	return string(b)
}

// joining is a config for a process that uses a broker another process runs.
func joining(a addrs) string {
	return fmt.Sprintf(`{"producer_addr":%q,"worker_addr":%q,"http_addr":%q,"jwt_key":%q,"tenant":"acme"}`, a.producer, a.worker, a.http, testKey)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func enqueue(t testing.TB, c *plugintest.Plugin, task sdk.Task) sdk.Enqueued {
	t.Helper()
	if task.Command == "" {
		task.Command = cmd
	}
	if task.Tenant == "" {
		task.Tenant = "acme"
	}
	r, err := c.Messaging.Enqueue(ctxT(t), task)
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return r
}

// consume opens a Consume stream of cmd for tenant acme, with no credits yet; Next
// waits at most 20 s.
func consume(t testing.TB, c *plugintest.Plugin, lease int32) *plugintest.Consumer {
	t.Helper()
	return plugintest.OpenConsumer(t, c.Messaging, "acme", []string{cmd}, time.Duration(lease)*time.Second, 0, 20*time.Second)
}

func result(t testing.TB, c *plugintest.Plugin, id string) sdk.TaskResult {
	t.Helper()
	return resultAs(t, c, "acme", id)
}

func resultAs(t testing.TB, c *plugintest.Plugin, tenant, id string) sdk.TaskResult {
	t.Helper()
	r, err := c.Messaging.Result(ctxT(t), tenant, id)
	if err != nil {
		t.Fatalf("get result %s: %v", id, err)
	}
	return r
}

func statsOf(t testing.TB, c *plugintest.Plugin) sdk.CommandStats {
	t.Helper()
	r, err := c.Messaging.Stats(ctxT(t), "acme", []string{cmd})
	if err != nil || len(r) != 1 {
		t.Fatalf("stats: %v %v", r, err)
	}
	return r[0]
}

// eventually polls cond every 50 ms for up to 20 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// conformanceTarget is the plugin binary with its embedded broker on free loopback ports
// and a fast backoff, ready for the generic suite:
//
//	plugintest.Messaging(t, conformanceTarget(t), opts)
func conformanceTarget(t testing.TB) plugintest.Target {
	return plugintest.Target{Path: testenv.Plugin(t, "messaging-codeq"), Config: embedded(freeAddrs(t), nil)}
}

// launch starts the plugin with config (it is killed when the test ends).
func launch(t testing.TB, config string) *plugintest.Plugin {
	t.Helper()
	tg := conformanceTarget(t)
	tg.Config = config
	return plugintest.Launch(t, tg, sdk.KindMessaging)
}
