package cluster

import (
	"errors"
	"fmt"
	"testing"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
)

func bundle(s string) *store.Bundle {
	return &store.Bundle{Runtime: "bun", Entry: "index.ts", Files: map[string][]byte{"index.ts": []byte(s)}}
}

// A deploy and an invocation on the leader are on every node once acknowledged, and a
// follower refuses writes with ErrUnavailable.
func TestReplicatesWritesAndRefusesOnFollower(t *testing.T) {
	l := startCluster(t, 3, nil)
	leader := l.Stores[0]
	v, err := leader.CreateVersion("acme", "hello", bundle("a"), "prod")
	if err != nil {
		t.Fatal(err)
	}
	inv, _, err := leader.CreateInvocation(&store.Invocation{Tenant: "acme", Function: "hello", Version: v.Number})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leader.UpdateInvocation("acme", inv.ID, func(i *store.Invocation) error { i.Status = invocation.StatusSucceeded; return nil }); err != nil {
		t.Fatal(err)
	}
	for i, st := range l.Stores[1:] {
		id := l.IDs[i+1]
		waitFor(t, id+" has the record", func() bool {
			got, err := st.GetInvocation("acme", inv.ID)
			return err == nil && got.Status == invocation.StatusSucceeded
		})
		ref, err := st.ResolveRef("acme", "hello", store.Ref{Env: "prod"})
		if err != nil || ref.Number != v.Number {
			t.Fatalf("%s resolves prod to %+v, %v", id, ref, err)
		}
		_, err = st.CreateVersion("acme", "hello", bundle("b"), "prod")
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("write on follower %s: %v, want ErrUnavailable", id, err)
		}
	}
}

// A node that was down while the leader compacted its log catches up from a snapshot.
func TestLaggingNodeRestoresSnapshot(t *testing.T) {
	l := startCluster(t, 3, func(o *Options) { o.TrailingLogs = 5; o.SnapshotThreshold = 10 })
	leader := l.Stores[0]
	waitFor(t, "n3 has the configuration", func() bool { return l.Nodes[2].raft.AppliedIndex() >= l.Nodes[0].raft.AppliedIndex() })
	behind := l.Nodes[2].raft.LastIndex()
	l.Stop(2)
	for i := 0; i < 40; i++ {
		if _, err := leader.CreateVersion("acme", "hello", bundle(fmt.Sprint("v", i)), "dev"); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Nodes[0].raft.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if first, _ := l.Nodes[0].bolt.FirstIndex(); first <= behind+1 {
		t.Fatalf("log not compacted past the stopped node: first index %d, the node has up to %d", first, behind)
	}
	if err := l.Start(2, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "restarted node has version 40", func() bool {
		f, err := l.Stores[2].GetFunction("acme", "hello")
		return err == nil && f.Latest == 40
	})
	// raft records the installed snapshot just after the store has it
	waitFor(t, "restarted node installed a snapshot", func() bool {
		got := l.Nodes[2].raft.Stats()["last_snapshot_index"]
		return got != "0" && got != ""
	})
}
