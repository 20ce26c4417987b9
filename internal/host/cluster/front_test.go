package cluster

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serve puts node i of l behind its Front with two routes: PUT /note writes a cluster
// record through the store, GET /note reads it. The leader's API URL is recorded.
func serve(t *testing.T, l *Local, i int) *httptest.Server {
	mux := http.NewServeMux()
	st, n := l.Stores[i], l.Nodes[i]
	mux.HandleFunc("PUT /note", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := st.PutClusterMeta("note", string(body)); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /note", func(w http.ResponseWriter, r *http.Request) {
		m, err := st.ClusterMeta("note")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_, _ = w.Write(m["note"])
	})
	srv := httptest.NewServer(n.Front(mux))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// A write on a follower is forwarded to the leader and answered as if local; reads are
// local and say so; ?consistent=true reads go through the leader.
func TestFrontForwardsWritesToTheLeader(t *testing.T) {
	l := startCluster(t, 3, nil)
	lead, follow := serve(t, l, 0), serve(t, l, 1)
	waitFor(t, "n1 recorded its API", func() bool { m, _ := l.Stores[0].ClusterMeta("node/n1"); return len(m) == 1 })
	if err := l.Stores[0].PutClusterMeta("node/n1", nodeMeta{API: lead.URL}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n2 knows n1's API", func() bool {
		u, err := l.Nodes[1].leaderAPI()
		return err == nil && "http://"+u.Host == lead.URL && l.Nodes[1].Role() == "follower"
	})
	resp, body := do(t, "PUT", follow.URL+"/note", "hello")
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get(NodeHeader) != "n1" {
		t.Fatalf("write on the follower: %d %s=%q %s", resp.StatusCode, NodeHeader, resp.Header.Get(NodeHeader), body)
	}
	resp, body = do(t, "GET", follow.URL+"/note?consistent=true", "")
	if body != `"hello"` || resp.Header.Get(ReadHeader) != "linearizable" || resp.Header.Get(NodeHeader) != "n1" {
		t.Fatalf("consistent read on the follower: %q %v", body, resp.Header)
	}
	waitFor(t, "n2 applied the write", func() bool { _, b := do(t, "GET", follow.URL+"/note", ""); return b == `"hello"` })
	if resp, _ := do(t, "GET", follow.URL+"/note", ""); resp.Header.Get(ReadHeader) != "local" || resp.Header.Get(NodeHeader) != "n2" {
		t.Fatalf("local read on the follower: %v", resp.Header)
	}
	// A request another follower already forwarded is not forwarded again.
	req, _ := http.NewRequest("PUT", follow.URL+"/note", strings.NewReader("loop"))
	req.Header.Set(forwardedHeader, "n9")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a forwarded request reaching a follower: %v %v", resp, err)
	}
	// Without the others the follower refuses writes and marks its reads stale.
	l.Stop(0)
	l.Stop(2)
	waitFor(t, "n2 loses the quorum", func() bool { return l.Nodes[1].Role() == "no_quorum" })
	if resp, body := do(t, "PUT", follow.URL+"/note", "lost"); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "no quorum") {
		t.Fatalf("write without a quorum: %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, "GET", follow.URL+"/note", ""); body != `"hello"` || resp.Header.Get(ReadHeader) != "stale" || resp.Header.Get(LastContactHeader) == "" {
		t.Fatalf("read without a quorum: %q %v", body, resp.Header)
	}
}
