package cluster

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/sous-run/sous/host/store"
)

// testNode is one in-process node: a store and its raft node.
type testNode struct {
	id   string
	dir  string
	addr string
	st   *store.Store
	n    *Node
}

// freeAddr is a free loopback host:port.
func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// testTLS issues certificates for ids under dir and returns each node's TLS config.
func testTLS(t testing.TB, dir string, ids ...string) map[string]*tls.Config {
	if err := WriteCerts(dir, ids...); err != nil {
		t.Fatal(err)
	}
	out := map[string]*tls.Config{}
	for _, id := range ids {
		c, err := TLSConfig(filepath.Join(dir, "ca.pem"), filepath.Join(dir, id+".pem"), filepath.Join(dir, id+"-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		out[id] = c
	}
	return out
}

// startNode opens a store and a node; the first one bootstraps.
func startNode(t testing.TB, base, id string, conf *tls.Config, addr string, bootstrap bool, tune func(*Options)) *testNode {
	dir := filepath.Join(base, id)
	st, err := store.Open(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{NodeID: id, RaftAddr: addr, Bootstrap: bootstrap, Dir: filepath.Join(dir, "raft"), TLS: conf, APIURL: "http://" + addr}
	if tune != nil {
		tune(&opt)
	}
	n, err := Open(opt, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &testNode{id: id, dir: dir, addr: addr, st: st, n: n}
}

func (tn *testNode) stop() {
	tn.n.Close()
	_ = tn.st.Close()
}

// startCluster starts size nodes: the first bootstraps and leads, the others are
// added as voters.
func startCluster(t testing.TB, size int, tune func(*Options)) []*testNode {
	base := t.TempDir()
	ids := make([]string, size)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i+1)
	}
	confs := testTLS(t, filepath.Join(base, "certs"), ids...)
	var nodes []*testNode
	for i, id := range ids {
		nodes = append(nodes, startNode(t, base, id, confs[id], freeAddr(t), i == 0, tune))
	}
	t.Cleanup(func() {
		for _, tn := range nodes {
			tn.stop()
		}
	})
	waitFor(t, "n1 leads", func() bool { return nodes[0].n.Role() == "leader" })
	for _, tn := range nodes[1:] {
		if err := nodes[0].n.raft.AddVoter(raftID(tn.id), raftAddr(tn.addr), 0, 10*time.Second).Error(); err != nil {
			t.Fatal(err)
		}
	}
	return nodes
}

// waitFor polls cond for up to 20 s (generous: the machine is shared).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
