package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/hashicorp/raft"

	"github.com/sous-run/sous/internal/host/api"
)

// Headers of cluster mode's answers.
const (
	// ReadHeader says how fresh a read is: "leader" (served by the leader), "local" (a
	// follower in contact with the leader), "stale" (a follower without a leader: the
	// data may be behind) or "linearizable" (?consistent=true, after a leader barrier).
	ReadHeader = "Sous-Read"
	// LastContactHeader is how long ago a stale follower last heard from a leader.
	LastContactHeader = "Sous-Last-Contact"
	// NodeHeader names the node that served the request (the leader, when forwarded).
	NodeHeader = "Sous-Node"
	// forwardedHeader marks a request a follower forwarded, so it is never forwarded twice.
	forwardedHeader = "Sous-Forwarded-By"
)

// Front is the API's front in cluster mode: writes on a follower are forwarded to the
// leader and its answer passed back as is; reads are served locally (marked stale when
// no leader is in contact); ?consistent=true reads go through the leader after a barrier.
func (n *Node) Front(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write := r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions
		consistent := r.URL.Query().Get("consistent") == "true"
		if !write && !consistent {
			n.markRead(w)
			next.ServeHTTP(w, r)
			return
		}
		if n.writable.Load() {
			w.Header().Set(NodeHeader, n.opt.NodeID)
			if !write {
				if err := n.raft.Barrier(barrierTimeout).Error(); err != nil {
					api.WriteError(w, r, http.StatusServiceUnavailable, "no_quorum",
						fmt.Sprintf("no quorum: leader %s could not confirm it is current (%v); retry", n.opt.NodeID, err))
					return
				}
				w.Header().Set(ReadHeader, "linearizable")
			}
			next.ServeHTTP(w, r)
			return
		}
		if by := r.Header.Get(forwardedHeader); by != "" {
			api.WriteError(w, r, http.StatusServiceUnavailable, "no_quorum",
				fmt.Sprintf("node %s forwarded this to %s, which no longer leads (%s); retry", by, n.opt.NodeID, n.notLeader()))
			return
		}
		if !n.inContact() { // a leader that stopped answering would hold the request forever
			api.WriteError(w, r, http.StatusServiceUnavailable, "no_quorum", n.cutOff())
			return
		}
		target, err := n.leaderAPI()
		if err != nil {
			api.WriteError(w, r, http.StatusServiceUnavailable, "no_quorum", err.Error())
			return
		}
		n.forward(w, r, target)
	})
}

// markRead labels a local read with its freshness.
func (n *Node) markRead(w http.ResponseWriter) {
	h := w.Header()
	h.Set(NodeHeader, n.opt.NodeID)
	switch {
	case n.writable.Load():
		h.Set(ReadHeader, "leader")
	case n.inContact():
		h.Set(ReadHeader, "local")
	default:
		h.Set(ReadHeader, "stale")
		if lc := n.raft.LastContact(); !lc.IsZero() {
			h.Set(LastContactHeader, time.Since(lc).Round(time.Millisecond).String())
		} else {
			h.Set(LastContactHeader, "never")
		}
	}
}

// cutOff says why a follower out of contact refuses a write.
func (n *Node) cutOff() string {
	since := "never"
	if lc := n.raft.LastContact(); !lc.IsZero() {
		since = time.Since(lc).Round(time.Millisecond).String() + " ago"
	}
	return fmt.Sprintf("no quorum: node %s has not heard from a leader (last contact: %s); the write was not applied", n.opt.NodeID, since)
}

// inContact reports whether this follower knows a leader and heard from it within a
// heartbeat timeout.
func (n *Node) inContact() bool {
	if _, id := n.raft.LeaderWithID(); id == "" {
		return false
	}
	return time.Since(n.raft.LastContact()) < HeartbeatTimeout
}

// leaderAPI is the leader's API URL, or why there is none to forward to.
func (n *Node) leaderAPI() (*url.URL, error) {
	_, id := n.raft.LeaderWithID()
	if id == "" {
		return nil, errors.New(n.notLeader())
	}
	if id == raft.ServerID(n.opt.NodeID) {
		return nil, errors.New(n.notLeader())
	}
	metas, err := n.st.ClusterMeta("node/" + string(id))
	if err != nil {
		return nil, fmt.Errorf("look up the API of leader %s: %w", id, err)
	}
	var m nodeMeta
	if raw, ok := metas["node/"+string(id)]; ok {
		_ = json.Unmarshal(raw, &m)
	}
	if m.API == "" {
		return nil, fmt.Errorf("leader %s has not recorded its API address yet; retry", id)
	}
	return url.Parse(m.API)
}

// forward proxies r to the leader's API; streams (events, logs) flow through unbuffered.
func (n *Node) forward(w http.ResponseWriter, r *http.Request, target *url.URL) {
	p := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Set(forwardedHeader, n.opt.NodeID)
			pr.Out.Header.Set("X-Request-Id", api.RequestID(pr.In.Context()))
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			api.WriteError(w, r, http.StatusServiceUnavailable, "no_quorum",
				fmt.Sprintf("node %s could not reach the leader at %s (%v); the write may not have been applied, retry (with an Idempotency-Key for invocations)",
					n.opt.NodeID, target.Host, err))
		},
	}
	p.ServeHTTP(w, r)
}
