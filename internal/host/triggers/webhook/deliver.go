// Package webhook delivers completion webhooks: when an invocation that asked for one
// (Sous-Callback-Url, on_complete, --callback) reaches its final status, its record is
// POSTed, signed with the tenant's secret, to the URL — at least once, retried with
// exponential backoff and jitter for up to webhooks.max_age, from a durable outbox in
// the store so a restart loses nothing. Destinations in reserved ranges are refused
// unless webhooks.allow_cidrs lists them, when asked for and again when dialling.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/store"
)

// Options configure delivery (config keys webhooks.*). Zero values take the defaults.
type Options struct {
	Policy       Policy
	Timeout      time.Duration // one attempt (webhooks.timeout, default 10s)
	MaxAge       time.Duration // give up this long after the run ended (webhooks.max_age, default 24h)
	BackoffBase  time.Duration // first retry delay (webhooks.backoff_base, default 5s)
	BackoffMax   time.Duration // longest retry delay (webhooks.backoff_max, default 1h)
	MaxBodyBytes int           // webhooks.max_body_bytes (default 256 KiB)
	Poll         time.Duration // how often the outbox is scanned (default 1s)
	Parallel     int           // attempts at once (default 8)
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, 10*time.Second)
	def(&o.MaxAge, 24*time.Hour)
	def(&o.BackoffBase, 5*time.Second)
	def(&o.BackoffMax, time.Hour)
	def(&o.Poll, time.Second)
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 256 << 10
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
}

// Deliverer sends the callbacks of one store's outbox.
type Deliverer struct {
	opt    Options
	st     *store.Store
	client *http.Client
	log    hclog.Logger
	wake   chan struct{}

	mu       sync.Mutex
	inflight map[string]bool // tenant/id being attempted
	wg       sync.WaitGroup
}

// New returns a deliverer over st's outbox.
func New(opt Options, st *store.Store, log hclog.Logger) *Deliverer {
	opt.defaults()
	if log == nil {
		log = hclog.NewNullLogger()
	}
	dialer := &net.Dialer{Timeout: opt.Timeout, Control: opt.Policy.control}
	tr := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, past the address check
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    opt.Timeout,
		ResponseHeaderTimeout:  opt.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
	}
	c := &http.Client{Transport: tr, Timeout: opt.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Deliverer{opt: opt, st: st, client: c, log: log.Named("webhooks"), wake: make(chan struct{}, 1), inflight: map[string]bool{}}
}

// Notify tells the deliverer a record reached its final status (control's hook); its
// callback, if any, is attempted now instead of at the next poll.
func (d *Deliverer) Notify(rec *store.Invocation) {
	if rec.Callback == nil {
		return
	}
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the attempts under way.
func (d *Deliverer) Run(ctx context.Context) {
	defer d.wg.Wait()
	t := time.NewTicker(d.opt.Poll)
	defer t.Stop()
	for {
		if err := d.Pass(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("outbox scan", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

// Pass starts an attempt for every due callback in the outbox.
func (d *Deliverer) Pass(ctx context.Context) error {
	entries, err := d.st.ListOutbox()
	if err != nil {
		return err
	}
	sem := make(chan struct{}, d.opt.Parallel)
	for _, e := range entries {
		if ctx.Err() != nil {
			return nil
		}
		rec, err := d.st.GetInvocation(e.Tenant, e.ID)
		if errors.Is(err, store.ErrNotFound) {
			_ = d.st.DropOutbox(e.Tenant, e.ID)
			continue
		}
		if err != nil {
			return err
		}
		if !d.due(rec) || !d.claim(e) {
			continue
		}
		sem <- struct{}{}
		d.wg.Add(1)
		go func() {
			defer func() { <-sem; d.release(e); d.wg.Done() }()
			d.attempt(ctx, rec)
		}()
	}
	return nil
}

// due reports whether rec's callback should be attempted now.
func (d *Deliverer) due(rec *store.Invocation) bool {
	cb := rec.Callback
	if cb == nil || cb.Done() || !rec.Status.Final() {
		return false
	}
	return cb.NextAt == nil || !cb.NextAt.After(time.Now())
}

func (d *Deliverer) claim(e store.OutboxEntry) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := e.Tenant + "/" + e.ID
	if d.inflight[k] {
		return false
	}
	d.inflight[k] = true
	return true
}

func (d *Deliverer) release(e store.OutboxEntry) {
	d.mu.Lock()
	delete(d.inflight, e.Tenant+"/"+e.ID)
	d.mu.Unlock()
}

// attempt POSTs rec once and records the outcome on its callback.
func (d *Deliverer) attempt(ctx context.Context, rec *store.Invocation) {
	status, err := d.send(ctx, rec)
	if ctx.Err() != nil {
		return // shutting down: not an attempt; the outbox keeps it for the next start
	}
	now := time.Now().UTC()
	_, uerr := d.st.UpdateCallback(rec.Tenant, rec.ID, func(cb *store.Callback) {
		cb.Attempts++
		cb.LastStatus = status
		if err == nil {
			cb.Status, cb.LastError, cb.NextAt, cb.DeliveredAt = store.CallbackDelivered, "", nil, &now
			return
		}
		cb.LastError = err.Error()
		next := now.Add(d.backoff(cb.Attempts))
		if ended := endOf(rec); next.Sub(ended) > d.opt.MaxAge || errors.Is(err, errPermanent) {
			cb.Status, cb.NextAt = store.CallbackFailed, nil
			return
		}
		cb.Status, cb.NextAt = store.CallbackPending, &next
	})
	if uerr != nil {
		d.log.Warn("record callback attempt", "invocation", rec.ID, "error", uerr)
	}
	if err != nil {
		d.log.Debug("callback attempt failed", "invocation", rec.ID, "url", rec.Callback.URL, "error", err)
	}
}

// errPermanent marks a failure that retrying cannot fix (the body cannot be built).
var errPermanent = errors.New("permanent")

// send makes one signed POST; nil error means a 2xx answer.
func (d *Deliverer) send(ctx context.Context, rec *store.Invocation) (int, error) {
	body, err := Body(rec, d.opt.MaxBodyBytes)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errPermanent, err)
	}
	sec, err := d.st.WebhookSecret(rec.Tenant)
	if err != nil {
		return 0, fmt.Errorf("webhook secret: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rec.Callback.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: %v", errPermanent, err)
	}
	now := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Sous-Webhook/1")
	req.Header.Set("Sous-Invocation-Id", rec.ID)
	req.Header.Set("Sous-Delivery-Attempt", strconv.Itoa(rec.Callback.Attempts+1))
	req.Header.Set(SignatureHeader, Sign(sec.Signing(now), now, body))
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post %s: %w", rec.Callback.URL, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return resp.StatusCode, fmt.Errorf("receiver answered %s; redirects are not followed", resp.Status)
		}
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// backoff is the delay after the n-th failed attempt: base·2^(n-1) capped at max, with
// jitter (a random point in its upper half) so receivers are not hit in lockstep.
func (d *Deliverer) backoff(n int) time.Duration {
	b := d.opt.BackoffBase
	for i := 1; i < n && b < d.opt.BackoffMax; i++ {
		b *= 2
	}
	b = min(b, d.opt.BackoffMax)
	return b/2 + rand.N(b/2+1)
}

// endOf is when the run ended (delivery's 24 h count from there).
func endOf(rec *store.Invocation) time.Time {
	if rec.FinishedAt != nil {
		return *rec.FinishedAt
	}
	return rec.CreatedAt
}
