package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// nodeMeta is the replicated record of one node (cluster key "node/<id>").
type nodeMeta struct {
	API string `json:"api"`
}

// watchLeadership follows raft's leadership changes. A new leader first waits for a
// barrier (every entry of earlier terms applied, so its read-modify-writes see them),
// then records its API address and takes writes and the leader-only work.
func (n *Node) watchLeadership(ctx context.Context) {
	ch := n.raft.LeaderCh()
	for {
		select {
		case <-ctx.Done():
			return
		case leader := <-ch:
			if !leader {
				n.setLeading(false)
				continue
			}
			if err := n.raft.Barrier(barrierTimeout).Error(); err != nil {
				n.log.Warn("new leader could not catch up; stays read-only", "error", err)
				continue
			}
			n.setLeading(true)
			n.log.Info("leading the cluster", "node", n.opt.NodeID)
			if err := n.st.PutClusterMeta("node/"+n.opt.NodeID, nodeMeta{API: n.opt.APIURL}); err != nil {
				n.log.Warn("record this node's API address", "error", err)
			}
		}
	}
}

// setLeading opens or ends a leadership period.
func (n *Node) setLeading(on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if on == (n.lead != nil) {
		return
	}
	if on {
		n.lead, n.endLead = context.WithCancel(context.Background())
	} else {
		n.endLead()
		n.lead, n.endLead = nil, nil
	}
	n.writable.Store(on)
	close(n.changed)
	n.changed = make(chan struct{})
}

// WhileLeader runs fn each time this node leads, with a context that ends when it
// stops leading, until ctx ends. The control plane's background work (reaper,
// schedules, webhook deliveries) runs this way on exactly one node.
func (n *Node) WhileLeader(ctx context.Context, fn func(ctx context.Context)) {
	for {
		n.mu.Lock()
		lead, changed := n.lead, n.changed
		n.mu.Unlock()
		if lead == nil {
			select {
			case <-ctx.Done():
				return
			case <-changed:
				continue
			}
		}
		run, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(lead, cancel)
		fn(run)
		<-run.Done()
		stop()
		cancel()
		if ctx.Err() != nil {
			return
		}
	}
}

// joinLoop asks the members in opt.Join to add this node, until one agrees. A node that
// is already a member is added again as a no-op, which also refreshes its API address.
func (n *Node) joinLoop(ctx context.Context) {
	for attempt := 0; ; attempt++ {
		for _, url := range n.opt.Join {
			err := n.askJoin(ctx, url)
			if err == nil {
				n.log.Info("joined the cluster", "via", url)
				return
			}
			if attempt%10 == 0 {
				n.log.Warn("join the cluster", "via", url, "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// JoinRequest is the body of POST /v1/cluster/join.
type JoinRequest struct {
	NodeID   string `json:"node_id"`
	RaftAddr string `json:"raft_addr"`
	API      string `json:"api_url"`
}

func (n *Node) askJoin(ctx context.Context, base string) error {
	tok, err := n.opt.AdminToken()
	if err != nil {
		return err
	}
	body, _ := json.Marshal(JoinRequest{NodeID: n.opt.NodeID, RaftAddr: n.opt.RaftAddr, API: n.opt.APIURL})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(base, "/")+JoinPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return fmt.Errorf("%s: %s", resp.Status, e.Error.Message)
	}
	return nil
}
