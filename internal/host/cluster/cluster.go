// Package cluster replicates the control plane's state through hashicorp/raft: the log
// and stable store are raft-boltdb, the state machine is the host's Pebble store, and
// snapshots are Pebble checkpoints. The store hands every write to Node.Propose (the
// store.Replicator interface); without a cluster it commits to Pebble directly.
// See README.md for the design.
package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb"

	"github.com/sous-run/sous/internal/host/store"
)

// Timeouts tuned for a new leader within a few seconds on a LAN or loopback: followers
// start an election after HeartbeatTimeout without the leader, and a leader that cannot
// reach a quorum for LeaderLeaseTimeout steps down (and refuses writes).
const (
	HeartbeatTimeout   = time.Second
	ElectionTimeout    = time.Second
	LeaderLeaseTimeout = time.Second
	// applyTimeout bounds waiting for room in the leader's queue (not the commit).
	applyTimeout = 5 * time.Second
	// barrierTimeout bounds a consistent read's barrier and a new leader's catch-up.
	barrierTimeout = 5 * time.Second
)

// Options configure one control node (the config's cluster: block).
type Options struct {
	NodeID    string
	RaftAddr  string      // host:port the raft transport listens on and peers dial
	Bootstrap bool        // form a new one-node cluster when there is no raft state yet
	Join      []string    // API URLs of members to ask to add this node
	Dir       string      // raft data: raft.db (log + stable store) and snapshots
	TLS       *tls.Config // mutual TLS of the transport (see TLSConfig)
	APIURL    string      // this node's API, where followers forward writes
	// AdminToken mints a short-lived admin token for the join call.
	AdminToken func() (string, error)

	SnapshotThreshold uint64        // log entries between snapshots (default 8192)
	TrailingLogs      uint64        // entries kept after a snapshot (default 10240)
	SnapshotInterval  time.Duration // how often the threshold is checked (default 30s)
}

// Node is one control node of the cluster.
type Node struct {
	opt   Options
	raft  *raft.Raft
	st    *store.Store
	trans *raft.NetworkTransport
	bolt  *raftboltdb.BoltStore
	log   hclog.Logger

	writable atomic.Bool // leader, and caught up with the log of earlier terms
	mu       sync.Mutex
	lead     context.Context // while writable; nil otherwise
	endLead  context.CancelFunc
	changed  chan struct{} // closed and replaced when lead changes
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// entryBatch marks a log entry that carries one Pebble batch (the only kind so far).
const entryBatch byte = 1

// Open starts the node over st (already open) and installs it as st's replicator.
func Open(opt Options, st *store.Store, log hclog.Logger) (*Node, error) {
	if opt.NodeID == "" || opt.RaftAddr == "" || opt.Dir == "" {
		return nil, errors.New("cluster: node_id, raft_addr and data_dir are required")
	}
	if opt.TLS == nil {
		return nil, errors.New("cluster: the raft transport needs cluster.tls (ca_file, cert_file, key_file)")
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if err := os.MkdirAll(opt.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster data dir %s: %w", opt.Dir, err)
	}
	n := &Node{opt: opt, st: st, log: log.Named("cluster"), changed: make(chan struct{})}
	if err := n.start(); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) start() error {
	opt := n.opt
	bolt, err := raftboltdb.NewBoltStore(filepath.Join(opt.Dir, "raft.db"))
	if err != nil {
		return fmt.Errorf("cluster: open raft log %s: %w", opt.Dir, err)
	}
	n.bolt = bolt
	logs, err := raft.NewLogCache(512, bolt)
	if err != nil {
		return fmt.Errorf("cluster: log cache: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(opt.Dir, 2, n.log.Named("snapshots"))
	if err != nil {
		return fmt.Errorf("cluster: snapshot store %s: %w", opt.Dir, err)
	}
	stream, err := listenTLS(opt.RaftAddr, opt.TLS)
	if err != nil {
		return err
	}
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: stream, MaxPool: 3, Timeout: 5 * time.Second, Logger: n.log.Named("transport"),
	})
	cfg := raftConfig(opt, n.log)
	existing, err := raft.HasExistingState(logs, bolt, snaps)
	if err != nil {
		return fmt.Errorf("cluster: read raft state: %w", err)
	}
	r, err := raft.NewRaft(cfg, &fsm{st: n.st, dir: opt.Dir, log: n.log}, logs, bolt, snaps, n.trans)
	if err != nil {
		return fmt.Errorf("cluster: start raft: %w", err)
	}
	n.raft = r
	n.st.SetReplicator(n)
	if opt.Bootstrap && !existing {
		conf := raft.Configuration{Servers: []raft.Server{{ID: cfg.LocalID, Address: n.trans.LocalAddr()}}}
		if err := r.BootstrapCluster(conf).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			return fmt.Errorf("cluster: bootstrap: %w", err)
		}
	}
	if !opt.Bootstrap && len(opt.Join) == 0 && !existing {
		n.log.Info("this node is in no cluster yet; add it from a member: sous cluster join " + opt.NodeID + " " + opt.RaftAddr + " " + opt.APIURL)
	}
	ctx, stop := context.WithCancel(context.Background())
	n.stop = stop
	n.wg.Add(1)
	go func() { defer n.wg.Done(); n.watchLeadership(ctx) }()
	if len(opt.Join) > 0 {
		n.wg.Add(1)
		go func() { defer n.wg.Done(); n.joinLoop(ctx) }()
	}
	return nil
}

// raftConfig is hashicorp/raft's configuration for opt: fast failover on a LAN, big
// append batches (record writes made at the same time share one log append and fsync).
func raftConfig(opt Options, log hclog.Logger) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(opt.NodeID)
	c.HeartbeatTimeout = HeartbeatTimeout
	c.ElectionTimeout = ElectionTimeout
	c.LeaderLeaseTimeout = LeaderLeaseTimeout
	c.CommitTimeout = 20 * time.Millisecond
	c.MaxAppendEntries = 512
	c.BatchApplyCh = true
	c.SnapshotThreshold = orDefault(opt.SnapshotThreshold, 8192)
	c.TrailingLogs = orDefault(opt.TrailingLogs, 10240)
	c.SnapshotInterval = 30 * time.Second
	if opt.SnapshotInterval > 0 {
		c.SnapshotInterval = opt.SnapshotInterval
	}
	c.Logger = log.Named("raft")
	c.LogOutput = io.Discard
	return c
}

func orDefault(v, d uint64) uint64 {
	if v == 0 {
		return d
	}
	return v
}

// Propose is store.Replicator: one Pebble batch through the log. Only a leader that has
// caught up accepts; anything else is ErrUnavailable (the API forwards writes to the
// leader before they reach the store, so this is what a lost quorum looks like).
func (n *Node) Propose(repr []byte) (func() error, error) {
	if !n.writable.Load() {
		return nil, fmt.Errorf("%w: %s", store.ErrUnavailable, n.notLeader())
	}
	data := make([]byte, 1+len(repr))
	data[0] = entryBatch
	copy(data[1:], repr)
	f := n.raft.Apply(data, applyTimeout)
	return func() error {
		if err := f.Error(); err != nil {
			return fmt.Errorf("%w: no quorum: node %s could not commit the write (%v); it was not acknowledged", store.ErrUnavailable, n.opt.NodeID, err)
		}
		if err, ok := f.Response().(error); ok && err != nil {
			return err
		}
		return nil
	}, nil
}

// notLeader says why this node does not take writes.
func (n *Node) notLeader() string {
	_, id := n.raft.LeaderWithID()
	if id == "" {
		return fmt.Sprintf("no quorum: node %s sees no leader; the write was not applied", n.opt.NodeID)
	}
	if raft.ServerID(n.opt.NodeID) == id {
		return fmt.Sprintf("node %s is leader but still catching up with the log; retry", n.opt.NodeID)
	}
	return fmt.Sprintf("node %s is not the leader (%s is); the write was not applied", n.opt.NodeID, id)
}

// Raft is the underlying raft instance (for status and tests).
func (n *Node) Raft() *raft.Raft { return n.raft }

// ID is this node's id.
func (n *Node) ID() string { return n.opt.NodeID }

// Close stops raft (without leaving the cluster) and closes the transport and the log.
// The store keeps this node as its replicator, so a write after Close is refused
// (ErrUnavailable) rather than applied to this node alone.
func (n *Node) Close() {
	n.setLeading(false)
	if n.stop != nil {
		n.stop()
	}
	if n.raft != nil {
		if err := n.raft.Shutdown().Error(); err != nil {
			n.log.Warn("raft shutdown", "error", err)
		}
	}
	n.wg.Wait()
	if n.trans != nil {
		_ = n.trans.Close()
	}
	if n.bolt != nil {
		_ = n.bolt.Close()
	}
}
