package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
)

// Cluster is the cluster: block. With node_id empty the host is one node and nothing
// here is used; otherwise the control role replicates its state through raft
// (internal/host/cluster) with the other control nodes.
type Cluster struct {
	NodeID    string     `koanf:"node_id"`
	RaftAddr  string     `koanf:"raft_addr"` // host:port of the raft transport, reachable by the other nodes
	Bootstrap bool       `koanf:"bootstrap"` // form a new cluster (the first node, once)
	Join      []string   `koanf:"join"`      // API URLs of members to ask to add this node (neither: wait for `sous cluster join`)
	DataDir   string     `koanf:"data_dir"`  // raft log and snapshots (default <data_dir>/raft)
	TLS       ClusterTLS `koanf:"tls"`
	// SnapshotThreshold and TrailingLogs: a snapshot is taken after this many log entries,
	// and this many are kept after it (a node further behind gets the snapshot).
	SnapshotThreshold int `koanf:"snapshot_threshold"`
	TrailingLogs      int `koanf:"trailing_logs"`
}

// ClusterTLS is the raft transport's mutual TLS: a CA shared by the members, and this
// node's certificate signed by it (`sous cluster certs` makes them).
type ClusterTLS struct {
	CAFile   string `koanf:"ca_file"`
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
}

// Enabled reports whether a cluster: block is configured.
func (c Cluster) Enabled() bool { return c.NodeID != "" }

func clusterDefaults() map[string]any {
	return map[string]any{
		"node_id": "", "raft_addr": "", "bootstrap": false, "join": []any{}, "data_dir": "",
		"tls":                map[string]any{"ca_file": "", "cert_file": "", "key_file": ""},
		"snapshot_threshold": 8192, "trailing_logs": 10240,
	}
}

var nodeIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// validateCluster checks the cluster: block when it is used.
func (c *Config) validateCluster() []error {
	cl := c.Cluster
	if !cl.Enabled() {
		return nil
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s (from %s)", key, fmt.Sprintf(format, args...), c.Source(key)))
	}
	if !nodeIDRe.MatchString(cl.NodeID) {
		bad("cluster.node_id", "%q: use lowercase letters, digits, - or _ (at most 63)", cl.NodeID)
	}
	if c.Role == "worker" {
		bad("role", "a worker is not a cluster member; drop the cluster: block or use role control or all")
	}
	if _, _, err := net.SplitHostPort(cl.RaftAddr); err != nil {
		bad("cluster.raft_addr", "%q is not host:port, e.g. 127.0.0.1:7001", cl.RaftAddr)
	}
	if cl.Bootstrap && len(cl.Join) > 0 {
		bad("cluster.bootstrap", "set bootstrap: true (the first node) or join: [API URLs of members], not both")
	}
	for _, j := range cl.Join {
		if u, err := url.Parse(j); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("cluster.join", "%q is not an http(s) URL of a member's API", j)
		}
	}
	if cl.TLS.CAFile == "" || cl.TLS.CertFile == "" || cl.TLS.KeyFile == "" {
		bad("cluster.tls", "ca_file, cert_file and key_file are required: raft traffic is mutual TLS under a shared CA (make them with `sous cluster certs`)")
	}
	if c.Auth.Algorithm == "HS256" && c.Auth.HS256Key == "" && c.Auth.KeyFile == "" {
		bad("auth.hs256_key", "a cluster needs the same signing key on every node (tokens are checked by whichever node serves them); set auth.hs256_key or auth.key_file")
	}
	if cl.SnapshotThreshold <= 0 || cl.TrailingLogs <= 0 {
		bad("cluster.snapshot_threshold", "snapshot_threshold and trailing_logs must be above 0")
	}
	return errs
}
