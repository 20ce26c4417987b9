package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/cluster"
	"github.com/sous-run/sous/internal/testenv"
)

// clusterStack is three (or more) control nodes with raft, plus a worker, over Redis.
type clusterStack struct {
	*stack
	certs string
	mu    sync.Mutex
	urls  map[string]string // node id → API URL
	procs map[string]*proc
}

func newClusterStack(t *testing.T) *clusterStack {
	rs := testenv.StartRedis(t)
	s := newStack(t, redisYAML(rs.URL, "20s"))
	cs := &clusterStack{stack: s, certs: filepath.Join(t.TempDir(), "certs"), urls: map[string]string{}, procs: map[string]*proc{}}
	return cs
}

// startNode starts control node id: the bootstrap node when join is "", else one that
// asks the member at join to add it. Small snapshot settings make compaction happen.
func (cs *clusterStack) startNode(id, join string) *proc {
	cs.t.Helper()
	if err := cluster.WriteCerts(cs.certs, id); err != nil {
		cs.t.Fatal(err)
	}
	sets := []string{"cluster.node_id=" + id, fmt.Sprintf("cluster.raft_addr=127.0.0.1:%d", testenv.FreePort(cs.t)),
		"cluster.tls.ca_file=" + filepath.Join(cs.certs, "ca.pem"), "cluster.tls.cert_file=" + filepath.Join(cs.certs, id+".pem"),
		"cluster.tls.key_file=" + filepath.Join(cs.certs, id+"-key.pem"), "cluster.snapshot_threshold=64", "cluster.trailing_logs=32",
		"invoke.lost_after=6s"} // the new leader finalizes runs the old one was following within seconds
	if join == "" {
		sets = append(sets, "cluster.bootstrap=true")
	} else {
		sets = append(sets, "cluster.join="+join)
	}
	p := cs.start(id, "control", sets...)
	cs.mu.Lock()
	cs.urls[id], cs.procs[id] = cs.apiURL, p
	cs.mu.Unlock()
	return p
}

// url is node id's API URL.
func (cs *clusterStack) url(id string) string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.urls[id]
}

// readyz answers node id's /readyz: HTTP status and body.
func (cs *clusterStack) readyz(id string) (int, map[string]any) {
	resp, err := http.Get(cs.url(id) + "/readyz")
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// leader waits (up to within) until one of ids reports itself leader on /readyz.
func (cs *clusterStack) leader(within time.Duration, ids ...string) (string, time.Duration) {
	cs.t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		for _, id := range ids {
			if st, body := cs.readyz(id); st == 200 && body["cluster"] == "leader" {
				return id, time.Since(start)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cs.t.Fatalf("no leader among %v within %s", ids, within)
	return "", 0
}

// signal sends sig to node id's process group (the host and its plugins).
func (cs *clusterStack) signal(id string, sig syscall.Signal) {
	cs.mu.Lock()
	p := cs.procs[id]
	cs.mu.Unlock()
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// status is GET /v1/cluster on node id.
func (cs *clusterStack) status(id string) *cluster.Status {
	cs.t.Helper()
	var st cluster.Status
	if err := client.New(cs.url(id), cs.admin).Do(context.Background(), "GET", cluster.StatusPath, nil, &st); err != nil {
		cs.t.Fatalf("status of %s: %v", id, err)
	}
	return &st
}

// deployN deploys function "counter" (hello-bun with var N=n) through node id.
func (cs *clusterStack) deployN(ctx context.Context, id string, n int) (int, error) {
	req := packHello(cs.t)
	req.Vars = map[string]string{"N": fmt.Sprint(n)}
	res, err := client.New(cs.url(id), cs.admin).Deploy(ctx, "counter", req)
	if err != nil {
		return 0, err
	}
	return res.Number, nil
}

// load is a stream of deploys, alias changes and invocations sent round-robin to the
// nodes in targets, recording what was acknowledged.
type load struct {
	cs      *clusterStack
	mu      sync.Mutex
	targets []string
	deploys []int      // acknowledged versions of counter
	aliases []aliasSet // every attempt, in order
	ids     []string   // answered invocation ids
	errs    int
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

type aliasSet struct {
	version int
	acked   bool
}

func (cs *clusterStack) startLoad(targets ...string) *load {
	ctx, stop := context.WithCancel(context.Background())
	l := &load{cs: cs, targets: targets, stop: stop}
	l.wg.Add(3)
	go l.loop(ctx, func(ctx context.Context, id string, i int) error {
		v, err := cs.deployN(ctx, id, 1000+i)
		if err == nil {
			l.mu.Lock()
			l.deploys = append(l.deploys, v)
			l.mu.Unlock()
		}
		return err
	})
	go l.loop(ctx, func(ctx context.Context, id string, i int) error {
		v := 1 + i%2
		_, err := client.New(cs.url(id), cs.admin).SetAlias(ctx, "hello-bun", "prod", v)
		l.mu.Lock()
		l.aliases = append(l.aliases, aliasSet{version: v, acked: err == nil})
		l.mu.Unlock()
		return err
	})
	go l.loop(ctx, func(ctx context.Context, id string, i int) error {
		inv, err := client.New(cs.url(id), cs.admin).InvokeAsync(ctx, "hello-bun", []byte(`{"name":"ha"}`), client.InvokeOptions{})
		if err == nil && inv != "" {
			l.mu.Lock()
			l.ids = append(l.ids, inv)
			l.mu.Unlock()
		}
		return err
	})
	return l
}

func (l *load) loop(ctx context.Context, op func(ctx context.Context, id string, i int) error) {
	defer l.wg.Done()
	for i := 0; ctx.Err() == nil; i++ {
		l.mu.Lock()
		id := l.targets[i%len(l.targets)]
		l.mu.Unlock()
		octx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := op(octx, id, i)
		cancel()
		if err != nil {
			l.mu.Lock()
			l.errs++
			l.mu.Unlock()
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// setTargets changes the nodes the load talks to.
func (l *load) setTargets(ids ...string) {
	l.mu.Lock()
	l.targets = ids
	l.mu.Unlock()
}

// end stops the load and waits for the requests under way.
func (l *load) end() {
	l.stop()
	l.wg.Wait()
}

// acked returns how many deploys and invocations were acknowledged so far.
func (l *load) acked() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.deploys), len(l.ids)
}

// verify checks on node id (local reads, after it caught up with the leader) that every
// acknowledged deploy is there, prod points at the last acknowledged alias change or a
// later attempt, and every answered invocation id resolves.
func (l *load) verify(t *testing.T, id string) {
	t.Helper()
	cs := l.cs
	c := client.New(cs.url(id), cs.admin)
	ctx := context.Background()
	l.mu.Lock()
	deploys, aliases, ids := append([]int(nil), l.deploys...), append([]aliasSet(nil), l.aliases...), append([]string(nil), l.ids...)
	l.mu.Unlock()
	if len(deploys) == 0 || len(ids) == 0 {
		t.Fatalf("the load acknowledged nothing (deploys %d, invocations %d)", len(deploys), len(ids))
	}
	maxV := 0
	for _, v := range deploys {
		maxV = max(maxV, v)
	}
	waitUntil(t, 30*time.Second, id+" caught up with version "+fmt.Sprint(maxV), func() bool {
		f, err := c.GetFunction(ctx, "counter")
		return err == nil && f.Latest >= maxV
	})
	vs, err := c.ListVersions(ctx, "counter")
	if err != nil {
		t.Fatal(err)
	}
	have := map[int]bool{}
	for _, v := range vs {
		have[v.Number] = true
	}
	for _, v := range deploys {
		if !have[v] {
			t.Fatalf("%s lost acknowledged deploy: counter version %d", id, v)
		}
	}
	allowed := map[int]bool{}
	for i := len(aliases) - 1; i >= 0; i-- {
		allowed[aliases[i].version] = true
		if aliases[i].acked {
			break
		}
	}
	f, err := c.GetFunction(ctx, "hello-bun")
	if err != nil {
		t.Fatal(err)
	}
	if !allowed[f.Aliases["prod"]] {
		t.Fatalf("%s: prod is %d; the last acknowledged alias change or a later attempt allows %v", id, f.Aliases["prod"], allowed)
	}
	for _, inv := range ids {
		if _, err := c.GetInvocation(ctx, inv); err != nil {
			t.Fatalf("%s: answered invocation %s does not resolve: %v", id, inv, err)
		}
	}
	t.Logf("%s holds all %d acknowledged deploys, prod=%d, all %d answered invocation ids", id, len(deploys), f.Aliases["prod"], len(ids))
}

// finished waits until every answered invocation is final on node id and checks that
// each one succeeded: a leader change loses no accepted run, it only moves who records
// its end (the new leader's reaper, from messaging's result).
func (l *load) finished(t *testing.T, id string) {
	t.Helper()
	c := client.New(l.cs.url(id), l.cs.admin)
	l.mu.Lock()
	ids := append([]string(nil), l.ids...)
	l.mu.Unlock()
	open := ids
	waitUntil(t, 120*time.Second, "every answered invocation final", func() bool {
		var still []string
		for _, inv := range open {
			rec, err := c.GetInvocation(context.Background(), inv)
			if err != nil || rec["status"] == "pending" || rec["status"] == "running" {
				still = append(still, inv)
				continue
			}
			if rec["status"] != "succeeded" {
				t.Fatalf("invocation %s ended %v: %v", inv, rec["status"], rec["error"])
			}
		}
		open = still
		return len(open) == 0
	})
	t.Logf("all %d answered invocations succeeded (read on %s)", len(ids), id)
}

// waitUntil polls cond.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// raw sends method path through node id and returns the status, headers and body.
func (cs *clusterStack) raw(t *testing.T, id, method, path, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, cs.url(id)+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+cs.admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s on %s: %v", method, path, id, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// packHello packs examples/functions/hello-bun.
func packHello(t *testing.T) *wire.DeployRequest {
	t.Helper()
	_, req, err := client.PackDir(filepath.Join(testenv.RepoRoot(), "examples", "functions", "hello-bun"))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func invokeOpts() client.InvokeOptions { return client.InvokeOptions{} }
