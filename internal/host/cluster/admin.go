package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/raft"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/auth"
)

// Admin endpoints (admin scope), what `sous cluster` calls.
const (
	StatusPath   = "/v1/cluster"
	JoinPath     = "/v1/cluster/join"
	NodesPath    = "/v1/cluster/nodes/"
	SnapshotPath = "/v1/cluster/snapshot"
)

// Status is GET /v1/cluster: this node's view of the cluster.
type Status struct {
	NodeID       string   `json:"node_id"`
	Role         string   `json:"role"` // leader | follower | no_quorum
	State        string   `json:"raft_state"`
	LeaderID     string   `json:"leader_id,omitempty"`
	Term         uint64   `json:"term"`
	LastIndex    uint64   `json:"last_index"`
	AppliedIndex uint64   `json:"applied_index"`
	SnapshotIdx  uint64   `json:"last_snapshot_index"`    // the latest snapshot taken or installed here
	LastContact  string   `json:"last_contact,omitempty"` // followers: since the leader was heard
	Servers      []Member `json:"servers"`
}

// Member is one server of the raft configuration.
type Member struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	Suffrage string `json:"suffrage"`
	API      string `json:"api_url,omitempty"`
}

// Role is leader, follower (in contact with a leader) or no_quorum.
func (n *Node) Role() string {
	switch {
	case n.writable.Load():
		return "leader"
	case n.inContact():
		return "follower"
	default:
		return "no_quorum"
	}
}

// Ready is the /readyz check: fails while this node has no leader (no quorum).
func (n *Node) Ready(context.Context) error {
	if n.Role() == "no_quorum" {
		return errors.New(n.cutOff())
	}
	return nil
}

// ReadyDetail is what a ready /readyz adds: this node's id and role.
func (n *Node) ReadyDetail() map[string]string {
	return map[string]string{"node_id": n.opt.NodeID, "cluster": n.Role()}
}

// Status reports this node's view.
func (n *Node) Status() (*Status, error) {
	stats := n.raft.Stats()
	_, leader := n.raft.LeaderWithID()
	st := &Status{NodeID: n.opt.NodeID, Role: n.Role(), State: n.raft.State().String(), LeaderID: string(leader),
		Term: atoi(stats["term"]), LastIndex: n.raft.LastIndex(), AppliedIndex: n.raft.AppliedIndex(),
		SnapshotIdx: atoi(stats["last_snapshot_index"])}
	if st.State == "Follower" {
		st.LastContact = stats["last_contact"]
	}
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("raft configuration: %w", err)
	}
	metas, err := n.st.ClusterMeta("node/")
	if err != nil {
		return nil, err
	}
	for _, s := range f.Configuration().Servers {
		var m nodeMeta
		_ = json.Unmarshal(metas["node/"+string(s.ID)], &m)
		st.Servers = append(st.Servers, Member{ID: string(s.ID), RaftAddr: string(s.Address), Suffrage: s.Suffrage.String(), API: m.API})
	}
	sort.Slice(st.Servers, func(i, j int) bool { return st.Servers[i].ID < st.Servers[j].ID })
	return st, nil
}

func atoi(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v }

// nodeIDRe is what a node id may be (it names files and log lines).
var nodeIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Mount adds the admin endpoints through route (api.Server.Route).
func (n *Node) Mount(route func(method, pattern, scope string, h http.HandlerFunc)) {
	route("GET", StatusPath, auth.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		st, err := n.Status()
		if err != nil {
			api.WriteError(w, r, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		api.WriteJSON(w, http.StatusOK, st)
	})
	route("POST", JoinPath, auth.ScopeAdmin, n.handleJoin)
	route("DELETE", NodesPath+"{id}", auth.ScopeAdmin, n.handleRemove)
	route("POST", SnapshotPath, auth.ScopeAdmin, func(w http.ResponseWriter, r *http.Request) {
		if err := n.raft.Snapshot().Error(); err != nil {
			api.WriteError(w, r, http.StatusConflict, "snapshot_failed", "snapshot: "+err.Error())
			return
		}
		api.WriteJSON(w, http.StatusOK, map[string]any{"node_id": n.opt.NodeID, "snapshot_index": n.raft.AppliedIndex()})
	})
}

// handleJoin adds a voter (on the leader: the front forwarded the request here).
func (n *Node) handleJoin(w http.ResponseWriter, r *http.Request) {
	var req JoinRequest
	if !api.DecodeJSON(w, r, &req) {
		return
	}
	if msg := checkJoin(req); msg != "" {
		api.WriteError(w, r, http.StatusBadRequest, "invalid_request", msg)
		return
	}
	f := n.raft.AddVoter(raft.ServerID(req.NodeID), raft.ServerAddress(req.RaftAddr), 0, 10*time.Second)
	if err := f.Error(); err != nil {
		api.WriteError(w, r, http.StatusServiceUnavailable, "no_quorum", fmt.Sprintf("add node %s: %v", req.NodeID, err))
		return
	}
	if req.API != "" {
		if err := n.st.PutClusterMeta("node/"+req.NodeID, nodeMeta{API: req.API}); err != nil {
			api.WriteError(w, r, http.StatusServiceUnavailable, "no_quorum", fmt.Sprintf("record the API of node %s: %v", req.NodeID, err))
			return
		}
	}
	n.log.Info("node added", "node", req.NodeID, "raft_addr", req.RaftAddr, "api", req.API)
	api.WriteJSON(w, http.StatusOK, map[string]string{"node_id": req.NodeID, "status": "member"})
}

// checkJoin names what is wrong with a join request ("" when nothing).
func checkJoin(req JoinRequest) string {
	if !nodeIDRe.MatchString(req.NodeID) {
		return fmt.Sprintf("node_id %q: use lowercase letters, digits, - or _ (at most 63)", req.NodeID)
	}
	if _, _, err := net.SplitHostPort(req.RaftAddr); err != nil {
		return fmt.Sprintf("raft_addr %q is not host:port", req.RaftAddr)
	}
	if req.API != "" {
		if u, err := url.Parse(req.API); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Sprintf("api_url %q is not an http(s) URL", req.API)
		}
	}
	return ""
}

// handleRemove removes a server from the configuration (on the leader).
func (n *Node) handleRemove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		api.WriteError(w, r, http.StatusServiceUnavailable, "no_quorum", err.Error())
		return
	}
	found := false
	for _, s := range f.Configuration().Servers {
		found = found || string(s.ID) == id
	}
	if !found {
		api.WriteError(w, r, http.StatusNotFound, "not_found", fmt.Sprintf("node %q is not a member; see `sous cluster status`", id))
		return
	}
	if err := n.raft.RemoveServer(raft.ServerID(id), 0, 10*time.Second).Error(); err != nil {
		api.WriteError(w, r, http.StatusServiceUnavailable, "no_quorum", fmt.Sprintf("remove node %s: %v", id, err))
		return
	}
	if err := n.st.DeleteClusterMeta("node/" + id); err != nil && id != n.opt.NodeID {
		n.log.Warn("forget the API of a removed node", "node", id, "error", err)
	}
	n.log.Info("node removed", "node", id)
	api.WriteJSON(w, http.StatusOK, map[string]string{"node_id": id, "status": "removed"})
}
