package server

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/cluster"
)

// openCluster joins the control role to its cluster (config cluster: block): the store's
// writes go through raft, the API forwards writes to the leader and answers /readyz
// with this node's role, and the admin endpoints of `sous cluster` are mounted.
func (h *Host) openCluster() error {
	cc := h.Cfg.Cluster
	conf, err := cluster.TLSConfig(cc.TLS.CAFile, cc.TLS.CertFile, cc.TLS.KeyFile)
	if err != nil {
		return err
	}
	dir := cc.DataDir
	if dir == "" {
		dir = filepath.Join(h.Cfg.DataDir, "raft")
	}
	n, err := cluster.Open(cluster.Options{
		NodeID: cc.NodeID, RaftAddr: cc.RaftAddr, Bootstrap: cc.Bootstrap, Join: cc.Join, Dir: dir, TLS: conf,
		APIURL: "http://" + h.Addr, SnapshotThreshold: uint64(cc.SnapshotThreshold), TrailingLogs: uint64(cc.TrailingLogs),
		AdminToken: func() (string, error) {
			return h.Auth.Issue("cluster-node-"+cc.NodeID, "default", []string{auth.ScopeAdmin}, time.Minute)
		},
	}, h.Store, h.Log)
	if err != nil {
		return err
	}
	h.Cluster = n
	h.closers = append(h.closers, n.Close)
	h.API.SetFront(n.Front)
	ready := h.Plugins.Ready
	h.API.SetReady(func(ctx context.Context) error {
		return errors.Join(n.Ready(ctx), ready(ctx))
	})
	h.API.SetReadyDetail(n.ReadyDetail)
	n.Mount(h.API.Route)
	return nil
}

// leaderOnly runs fn on every node without a cluster, and only while leading with one:
// the reaper, schedules and webhook deliveries act on one node at a time.
func (h *Host) leaderOnly(ctx context.Context, fn func(ctx context.Context)) {
	if h.Cluster == nil {
		fn(ctx)
		return
	}
	h.Cluster.WhileLeader(ctx, fn)
}
