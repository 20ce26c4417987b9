package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
)

func TestSignVerifies(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"id":"x"}`)
	h := Sign([]string{"new", "old"}, now, body)
	if !strings.HasPrefix(h, "t=1700000000,v1=") || strings.Count(h, "v1=") != 2 {
		t.Fatalf("header %q", h)
	}
	for _, sec := range []string{"new", "old"} {
		if err := Verify(h, sec, body, 5*time.Minute, now); err != nil {
			t.Fatalf("verify with %s: %v", sec, err)
		}
	}
	if Verify(h, "other", body, 5*time.Minute, now) == nil {
		t.Fatal("a wrong secret verified")
	}
	if Verify(h, "new", []byte(`{"id":"y"}`), 5*time.Minute, now) == nil {
		t.Fatal("a changed body verified")
	}
	if Verify(h, "new", body, 5*time.Minute, now.Add(time.Hour)) == nil {
		t.Fatal("an old timestamp verified")
	}
}

func TestPolicyRefusesReservedRangesByName(t *testing.T) {
	var p Policy
	for addr, rule := range map[string]string{"127.0.0.1": "loopback", "::1": "loopback", "10.1.2.3": "private",
		"192.168.1.1": "private", "172.16.0.1": "private", "169.254.169.254": "link-local", "fe80::1": "link-local",
		"0.0.0.0": "unspecified", "::ffff:127.0.0.1": "loopback", "100.64.0.1": "reserved"} {
		var re *RefusedError
		if err := p.CheckAddr(netip.MustParseAddr(addr)); !errors.As(err, &re) || !strings.Contains(err.Error(), rule) ||
			!strings.Contains(err.Error(), "webhooks.allow_cidrs") {
			t.Errorf("%s: got %v, want refused as %s", addr, err, rule)
		}
	}
	if err := p.CheckAddr(netip.MustParseAddr("93.184.216.34")); err != nil {
		t.Errorf("public address refused: %v", err)
	}
	allow, err := ParsePolicy([]string{"127.0.0.1", "10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	if allow.CheckAddr(netip.MustParseAddr("127.0.0.1")) != nil || allow.CheckAddr(netip.MustParseAddr("10.9.9.9")) != nil {
		t.Error("allowed ranges refused")
	}
	if allow.CheckAddr(netip.MustParseAddr("127.0.0.2")) == nil {
		t.Error("127.0.0.2 is outside 127.0.0.1/32 but passed")
	}
	ctx := context.Background()
	for _, u := range []string{"ftp://example.com/", "http:///x", "http://user:pw@example.com/", "not a url"} {
		if err := p.CheckURL(ctx, u); !errors.Is(err, ErrBadURL) {
			t.Errorf("%s: got %v, want ErrBadURL", u, err)
		}
	}
	if err := p.CheckURL(ctx, "http://localhost:9/hook"); err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("localhost: got %v, want loopback refused", err)
	}
}

// receiver is a loopback HTTP server answering with codes in turn (then the last one).
type receiver struct {
	mu     sync.Mutex
	codes  []int
	bodies [][]byte
	heads  []http.Header
	srv    *httptest.Server
}

func newReceiver(t *testing.T, codes ...int) *receiver {
	r := &receiver{codes: codes}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.bodies)
		r.bodies, r.heads = append(r.bodies, b), append(r.heads, req.Header.Clone())
		code := r.codes[min(n, len(r.codes)-1)]
		r.mu.Unlock()
		if code == http.StatusFound {
			http.Redirect(w, req, "http://127.0.0.1:1/elsewhere", code)
			return
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.bodies) }

// finished stores a final invocation asking for a callback to url.
func finished(t *testing.T, st *store.Store, url string, output string) *store.Invocation {
	t.Helper()
	inv, _, err := st.CreateInvocation(&store.Invocation{Tenant: "acme", Function: "fn", Version: 1, Env: "prod",
		Callback: &store.Callback{URL: url}})
	if err != nil {
		t.Fatal(err)
	}
	inv, err = st.UpdateInvocation("acme", inv.ID, func(r *store.Invocation) error {
		r.Status, r.Output = invocation.StatusSucceeded, json.RawMessage(output)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func runDeliverer(t *testing.T, st *store.Store, p Policy) {
	d := New(Options{Policy: p, BackoffBase: 40 * time.Millisecond, BackoffMax: 100 * time.Millisecond,
		Poll: 20 * time.Millisecond, MaxBodyBytes: 2048}, st, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitCallback(t *testing.T, st *store.Store, id string, ok func(*store.Callback) bool) *store.Callback {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		inv, err := st.GetInvocation("acme", id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(inv.Callback) {
			return inv.Callback
		}
		if time.Now().After(deadline) {
			t.Fatalf("callback stuck at %+v", inv.Callback)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func openStore(t *testing.T) *store.Store {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestDeliveryRetriesUntil2xxAndSigns(t *testing.T) {
	st := openStore(t)
	rcv := newReceiver(t, 500, 500, 200)
	inv := finished(t, st, rcv.srv.URL+"/hook", `{"big":"`+strings.Repeat("x", 4000)+`"}`)
	runDeliverer(t, st, Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	cb := waitCallback(t, st, inv.ID, func(c *store.Callback) bool { return c.Done() })
	if cb.Status != store.CallbackDelivered || cb.Attempts != 3 || rcv.count() != 3 || cb.LastStatus != 200 {
		t.Fatalf("callback %+v after %d requests; want delivered on the 3rd", cb, rcv.count())
	}
	sec, _ := st.WebhookSecret("acme")
	if err := Verify(rcv.heads[2].Get(SignatureHeader), sec.Secret, rcv.bodies[2], time.Minute, time.Now()); err != nil {
		t.Fatal(err)
	}
	var p Payload
	if err := json.Unmarshal(rcv.bodies[2], &p); err != nil || p.ID != inv.ID || p.Status != invocation.StatusSucceeded || p.Output != nil ||
		!strings.Contains(p.OutputOmitted, "webhooks.max_body_bytes") || len(rcv.bodies[2]) > 2048 {
		t.Fatalf("body over the cap: %s (%v)", rcv.bodies[2], err)
	}
	if ents, _ := st.ListOutbox(); len(ents) != 0 {
		t.Fatalf("outbox still holds %v", ents)
	}
}

func TestDialTimeCheckRefusesLoopback(t *testing.T) {
	st := openStore(t)
	rcv := newReceiver(t, 200)
	// Stored directly, past the invoke-time check, as a name that later resolves to
	// loopback (DNS rebinding) would be.
	inv := finished(t, st, strings.Replace(rcv.srv.URL, "127.0.0.1", "localhost", 1)+"/hook", `1`)
	runDeliverer(t, st, Policy{})
	cb := waitCallback(t, st, inv.ID, func(c *store.Callback) bool { return c.Attempts >= 2 })
	if rcv.count() != 0 || !strings.Contains(cb.LastError, "loopback") {
		t.Fatalf("loopback reached at dial time: %d requests, callback %+v", rcv.count(), cb)
	}
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	st := openStore(t)
	redir := newReceiver(t, http.StatusFound)
	inv := finished(t, st, redir.srv.URL, `2`)
	runDeliverer(t, st, Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	cb := waitCallback(t, st, inv.ID, func(c *store.Callback) bool { return c.Attempts >= 2 })
	if cb.Status != store.CallbackPending || cb.LastStatus != http.StatusFound || !strings.Contains(cb.LastError, "redirects are not followed") {
		t.Fatalf("redirect: callback %+v", cb)
	}
}
