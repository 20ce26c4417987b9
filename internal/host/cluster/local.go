package cluster

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/sous-run/sous/internal/host/store"
)

// Local is a cluster of nodes in this process on loopback, with real TLS transports and
// stores on disk: `sous bench` measures replication with it, tests use it.
type Local struct {
	Base   string
	IDs    []string
	Addrs  []string
	TLS    []*tls.Config
	Stores []*store.Store
	Nodes  []*Node
	tune   func(*Options)
}

// StartLocal starts size nodes under base: n1 bootstraps and leads, the others are
// added as voters. tune (may be nil) adjusts each node's options.
func StartLocal(base string, size int, tune func(*Options)) (_ *Local, err error) {
	l := &Local{Base: base, tune: tune}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	for i := range size {
		l.IDs = append(l.IDs, fmt.Sprintf("n%d", i+1))
	}
	certs := filepath.Join(base, "certs")
	if err := WriteCerts(certs, l.IDs...); err != nil {
		return nil, err
	}
	for i, id := range l.IDs {
		conf, err := TLSConfig(filepath.Join(certs, "ca.pem"), filepath.Join(certs, id+".pem"), filepath.Join(certs, id+"-key.pem"))
		if err != nil {
			return nil, err
		}
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		l.TLS, l.Addrs = append(l.TLS, conf), append(l.Addrs, addr)
		l.Stores, l.Nodes = append(l.Stores, nil), append(l.Nodes, nil)
		if err := l.Start(i, i == 0); err != nil {
			return nil, err
		}
	}
	if err := waitUntil(20*time.Second, func() bool { return l.Nodes[0].Role() == "leader" }); err != nil {
		return nil, fmt.Errorf("n1 did not lead: %w", err)
	}
	for i := 1; i < size; i++ {
		f := l.Nodes[0].raft.AddVoter(raft.ServerID(l.IDs[i]), raft.ServerAddress(l.Addrs[i]), 0, 10*time.Second)
		if err := f.Error(); err != nil {
			return nil, fmt.Errorf("add %s: %w", l.IDs[i], err)
		}
	}
	return l, nil
}

// Start opens node i's store and node again (after Stop), on its directory and address.
func (l *Local) Start(i int, bootstrap bool) error {
	dir := filepath.Join(l.Base, l.IDs[i])
	st, err := store.Open(filepath.Join(dir, "state"))
	if err != nil {
		return err
	}
	opt := Options{NodeID: l.IDs[i], RaftAddr: l.Addrs[i], Bootstrap: bootstrap, Dir: filepath.Join(dir, "raft"),
		TLS: l.TLS[i], APIURL: "http://" + l.Addrs[i]}
	if l.tune != nil {
		l.tune(&opt)
	}
	n, err := Open(opt, st, hclog.NewNullLogger())
	if err != nil {
		_ = st.Close()
		return err
	}
	l.Stores[i], l.Nodes[i] = st, n
	return nil
}

// Stop closes node i (as a crash would leave it: no leave, files kept).
func (l *Local) Stop(i int) {
	if l.Nodes[i] != nil {
		l.Nodes[i].Close()
		_ = l.Stores[i].Close()
		l.Nodes[i], l.Stores[i] = nil, nil
	}
}

// Close stops every node.
func (l *Local) Close() {
	for i := range l.Nodes {
		l.Stop(i)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitUntil(within time.Duration, cond func() bool) error {
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}
