package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	raftboltdb "github.com/hashicorp/raft-boltdb"

	"github.com/sous-run/sous/internal/host/cluster"
)

// TestClusterHA runs three control nodes (raft) and a worker over real Redis with real
// Bun, under a stream of deploys, alias changes and async invocations: SIGKILL of the
// leader, a restart that needs a snapshot, a node cut off with SIGSTOP, and a node
// removed and another added while the load runs.
func TestClusterHA(t *testing.T) {
	cs := newClusterStack(t)
	cs.startNode("n1", "")
	cs.startNode("n2", cs.url("n1"))
	cs.startNode("n3", cs.url("n1"))
	if id, _ := cs.leader(20*time.Second, "n1", "n2", "n3"); id != "n1" {
		t.Fatalf("leader is %s, want the bootstrap node n1", id)
	}
	for _, id := range []string{"n2", "n3"} {
		if st, body := cs.readyz(id); st != 200 || body["cluster"] != "follower" {
			t.Fatalf("/readyz of %s: %d %v", id, st, body)
		}
	}
	cs.apiURL = cs.url("n2") // the worker fetches bundles from a node that is not killed first
	cs.start("w1", "worker")
	cs.apiURL = cs.url("n3") // deploys through a follower: forwarded to the leader
	cs.deploy("hello-bun")
	req := packHello(t)
	req.Vars = map[string]string{"V": "2"}
	if _, err := cs.client().Deploy(context.Background(), "hello-bun", req); err != nil {
		t.Fatal(err)
	}
	res, err := cs.client().Invoke(context.Background(), "hello-bun", []byte(`{"name":"ha"}`), invokeOpts())
	if err != nil || res.Status != "succeeded" {
		t.Fatalf("invoke through a follower: %+v %v", res, err)
	}

	var n1Last uint64
	t.Run("SIGKILL of the leader under load", func(t *testing.T) {
		l := cs.startLoad("n1", "n2", "n3")
		time.Sleep(3 * time.Second)
		l.setTargets("n2", "n3")
		d0, i0 := l.acked()
		killed := time.Now()
		cs.procs["n1"].kill()
		id, took := cs.leader(20*time.Second, "n2", "n3")
		t.Logf("after SIGKILL of n1, %s leads after %s (%d deploys, %d invocations acknowledged before)", id, took, d0, i0)
		if took > 5*time.Second {
			t.Errorf("new leader took %s (> 5 s)", took)
		}
		waitUntil(t, 20*time.Second, "a deploy acknowledged after the kill", func() bool { d, _ := l.acked(); return d > d0 })
		t.Logf("first deploy acknowledged %s after the kill", time.Since(killed).Round(time.Millisecond))
		time.Sleep(2 * time.Second)
		l.end()
		d, i := l.acked()
		t.Logf("load: %d deploys, %d invocations acknowledged; %d refused or failed requests (retried)", d, i, l.errs)
		for _, id := range []string{"n2", "n3"} {
			l.verify(t, id)
		}
		l.finished(t, id)
		bolt, err := raftboltdb.NewBoltStore(filepath.Join(filepath.Dir(cs.procs["n1"].log.Name()), "data", "raft", "raft.db"))
		if err != nil {
			t.Fatal(err)
		}
		n1Last, _ = bolt.LastIndex()
		bolt.Close()
	})

	t.Run("a killed node restarts and catches up from a snapshot", func(t *testing.T) {
		leader, _ := cs.leader(20*time.Second, "n2", "n3")
		for i := 0; i < 80; i++ {
			if _, err := cs.deployN(context.Background(), leader, 5000+i); err != nil {
				t.Fatal(err)
			}
		}
		var snap struct {
			Index uint64 `json:"snapshot_index"`
		}
		if err := cs.client().Do(context.Background(), "POST", cluster.SnapshotPath, nil, &snap); err != nil {
			t.Fatal(err)
		}
		if snap.Index <= n1Last+32 {
			t.Fatalf("snapshot at %d does not compact past n1's last entry %d (+32 trailing)", snap.Index, n1Last)
		}
		p := cs.restart(cs.procs["n1"])
		cs.procs["n1"] = p
		waitUntil(t, 30*time.Second, "n1 installed the snapshot", func() bool { return cs.status("n1").SnapshotIdx >= snap.Index })
		want := cs.status(leader).AppliedIndex
		waitUntil(t, 30*time.Second, "n1 applied the log", func() bool { return cs.status("n1").AppliedIndex >= want })
		st, hdr, body := cs.raw(t, "n1", "GET", "/v1/functions/counter", "")
		var f struct {
			Latest int `json:"latest_version"`
		}
		_ = json.Unmarshal([]byte(body), &f)
		_, _, lb := cs.raw(t, leader, "GET", "/v1/functions/counter", "")
		var lf struct {
			Latest int `json:"latest_version"`
		}
		_ = json.Unmarshal([]byte(lb), &lf)
		if st != 200 || f.Latest != lf.Latest || hdr.Get(cluster.ReadHeader) != "local" {
			t.Fatalf("n1 after restart: %d %s latest %d (leader %d): %s", st, hdr.Get(cluster.ReadHeader), f.Latest, lf.Latest, body)
		}
		st, hdr, body = cs.raw(t, "n1", "GET", "/v1/functions/counter?consistent=true", "")
		if st != 200 || hdr.Get(cluster.ReadHeader) != "linearizable" || hdr.Get(cluster.NodeHeader) != leader {
			t.Fatalf("consistent read through n1: %d %s=%q %s=%q: %s", st, cluster.ReadHeader, hdr.Get(cluster.ReadHeader),
				cluster.NodeHeader, hdr.Get(cluster.NodeHeader), body)
		}
	})

	t.Run("a node cut off refuses writes and serves stale reads", func(t *testing.T) {
		cs.signal("n2", syscall.SIGSTOP)
		cs.signal("n3", syscall.SIGSTOP)
		defer func() {
			cs.signal("n2", syscall.SIGCONT)
			cs.signal("n3", syscall.SIGCONT)
		}()
		waitUntil(t, 20*time.Second, "n1 notices it is cut off", func() bool { st, _ := cs.readyz("n1"); return st == 503 })
		if _, body := cs.readyz("n1"); !strings.Contains(body["error"].(map[string]any)["message"].(string), "no quorum") {
			t.Fatalf("/readyz of the cut-off node: %v", body)
		}
		st, _, body := cs.raw(t, "n1", "PUT", "/v1/functions/hello-bun/aliases/prod", `{"version":1}`)
		if st != 503 || !strings.Contains(body, "no quorum") {
			t.Fatalf("write on the cut-off node: %d %s", st, body)
		}
		st, hdr, body := cs.raw(t, "n1", "GET", "/v1/functions/hello-bun", "")
		if st != 200 || hdr.Get(cluster.ReadHeader) != "stale" || hdr.Get(cluster.LastContactHeader) == "" {
			t.Fatalf("read on the cut-off node: %d %s=%q: %s", st, cluster.ReadHeader, hdr.Get(cluster.ReadHeader), body)
		}
		if st, _, body := cs.raw(t, "n1", "GET", "/v1/functions/hello-bun?consistent=true", ""); st != 503 {
			t.Fatalf("consistent read on the cut-off node: %d %s", st, body)
		}
		cs.signal("n2", syscall.SIGCONT)
		cs.signal("n3", syscall.SIGCONT)
		cs.leader(20*time.Second, "n1", "n2", "n3")
		waitUntil(t, 20*time.Second, "all three ready again", func() bool {
			for _, id := range []string{"n1", "n2", "n3"} {
				if st, _ := cs.readyz(id); st != 200 {
					return false
				}
			}
			return true
		})
	})

	t.Run("removing and adding a node under load", func(t *testing.T) {
		leader, _ := cs.leader(20*time.Second, "n1", "n2", "n3")
		var gone string
		for _, id := range []string{"n1", "n3", "n2"} {
			if id != leader && id != "n2" { // n2 serves the worker's bundles
				gone = id
				break
			}
		}
		if gone == "" {
			gone = "n3"
		}
		var keep []string
		for _, id := range []string{"n1", "n2", "n3"} {
			if id != gone {
				keep = append(keep, id)
			}
		}
		l := cs.startLoad(keep...)
		time.Sleep(2 * time.Second)
		cs.apiURL = cs.url(keep[0])
		out := runSous(t, cs.stack, "cluster", "remove", gone)
		t.Logf("sous cluster remove %s: %s", gone, strings.TrimSpace(string(out)))
		_ = cs.procs[gone].cmd.Process.Signal(syscall.SIGTERM)
		<-cs.procs[gone].done
		d0, _ := l.acked()
		cs.startNode("n4", cs.url(keep[0]))
		l.setTargets(append(keep, "n4")...)
		time.Sleep(3 * time.Second)
		l.end()
		d1, i1 := l.acked()
		if d1 <= d0 {
			t.Fatalf("no deploy acknowledged while n4 joined (%d before, %d after)", d0, d1)
		}
		t.Logf("load: %d deploys, %d invocations acknowledged; %d refused or failed (retried)", d1, i1, l.errs)
		cs.apiURL = cs.url("n4")
		var raftN4 string
		for _, m := range cs.status("n4").Servers {
			if m.ID == "n4" {
				raftN4 = m.RaftAddr
			}
		}
		if out := string(runSous(t, cs.stack, "cluster", "join", "n4", raftN4, cs.url("n4"))); !strings.Contains(out, `"member"`) {
			t.Fatalf("sous cluster join of a member (a no-op): %s", out)
		}
		text := string(runSous(t, cs.stack, "cluster", "status"))
		t.Logf("sous cluster status on n4:\n%s", text)
		st := cs.status("n4")
		var ids []string
		for _, s := range st.Servers {
			ids = append(ids, s.ID)
		}
		if strings.Join(ids, ",") != strings.Join(append(keep, "n4"), ",") {
			t.Fatalf("members %v, want %v", ids, append(keep, "n4"))
		}
		for _, id := range append(keep, "n4") {
			l.verify(t, id)
		}
	})

	t.Run("a node without the cluster's certificate is refused", func(t *testing.T) {
		strangers := filepath.Join(t.TempDir(), "strangers")
		if err := cluster.WriteCerts(strangers, "x"); err != nil {
			t.Fatal(err)
		}
		st := cs.status("n2")
		var addr string
		for _, s := range st.Servers {
			if s.ID == "n2" {
				addr = s.RaftAddr
			}
		}
		handshake := func(certs, id string) error {
			cert, err := tls.LoadX509KeyPair(filepath.Join(certs, id+".pem"), filepath.Join(certs, id+"-key.pem"))
			if err != nil {
				t.Fatal(err)
			}
			c, err := tls.Dial("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true})
			if err != nil {
				return err
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, err = c.Read(make([]byte, 1))
			return err
		}
		if err := handshake(strangers, "x"); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("a stranger's certificate on n2's raft port: %v, want the handshake refused", err)
		}
		if err := handshake(cs.certs, "n4"); err == nil || !strings.Contains(err.Error(), "timeout") {
			t.Fatalf("a member's certificate on n2's raft port: %v, want an open connection (read timeout)", err)
		}
	})
}
