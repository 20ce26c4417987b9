package cluster

import (
	"crypto/tls"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sous-run/sous/host/store"
)

func bundle(s string) *store.Bundle {
	return &store.Bundle{Runtime: "bun", Entry: "index.ts", Files: map[string][]byte{"index.ts": []byte(s)}}
}

// A deploy and an invocation on the leader are on every node once acknowledged, and a
// follower refuses writes with ErrUnavailable.
func TestReplicatesWritesAndRefusesOnFollower(t *testing.T) {
	nodes := startCluster(t, 3, nil)
	leader := nodes[0]
	v, err := leader.st.CreateVersion("acme", "hello", bundle("a"), "prod")
	if err != nil {
		t.Fatal(err)
	}
	inv, _, err := leader.st.CreateInvocation(&store.Invocation{Tenant: "acme", Function: "hello", Version: v.Number})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leader.st.UpdateInvocation("acme", inv.ID, func(i *store.Invocation) error { i.Status = store.StatusSucceeded; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, tn := range nodes[1:] {
		waitFor(t, tn.id+" has the record", func() bool {
			got, err := tn.st.GetInvocation("acme", inv.ID)
			return err == nil && got.Status == store.StatusSucceeded
		})
		ref, err := tn.st.ResolveRef("acme", "hello", store.Ref{Env: "prod"})
		if err != nil || ref.Number != v.Number {
			t.Fatalf("%s resolves prod to %+v, %v", tn.id, ref, err)
		}
		_, err = tn.st.CreateVersion("acme", "hello", bundle("b"), "prod")
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("write on follower %s: %v, want ErrUnavailable", tn.id, err)
		}
	}
}

// A node that was down while the leader compacted its log catches up from a snapshot.
func TestLaggingNodeRestoresSnapshot(t *testing.T) {
	nodes := startCluster(t, 3, func(o *Options) { o.TrailingLogs = 5; o.SnapshotThreshold = 10 })
	leader, lag := nodes[0], nodes[2]
	conf := lag.n.opt.TLS
	lag.stop()
	for i := 0; i < 40; i++ {
		if _, err := leader.st.CreateVersion("acme", "hello", bundle(string(rune('a'+i%26))+time.Now().String()), "dev"); err != nil {
			t.Fatal(err)
		}
	}
	if err := leader.n.raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	first, _ := leader.n.bolt.FirstIndex()
	if first <= 2 {
		t.Fatalf("log not compacted: first index %d", first)
	}
	re := restart(t, lag, conf)
	nodes[2] = re
	waitFor(t, "restarted node has version 40", func() bool {
		f, err := re.st.GetFunction("acme", "hello")
		return err == nil && f.Latest == 40
	})
	if got := re.n.raft.Stats()["last_snapshot_index"]; got == "0" || got == "" {
		t.Fatalf("restarted node caught up without installing a snapshot (last_snapshot_index %q)", got)
	}
}

func restart(t *testing.T, tn *testNode, conf *tls.Config) *testNode {
	return startNode(t, filepath.Dir(tn.dir), tn.id, conf, tn.addr, false, func(o *Options) { o.TrailingLogs = 5; o.SnapshotThreshold = 10 })
}
