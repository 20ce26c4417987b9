package harness

import (
	"context"
	"sync"
	"time"
)

// Pool keeps warm harness processes per key (tenant, function version, digest). A process serves one
// invocation at a time; at most max processes are alive at once. When the pool is
// full, an idle process of another key (least recently used first) is evicted;
// when none is idle, Acquire waits for a release.
type Pool struct {
	max int
	ttl time.Duration

	mu      sync.Mutex
	idle    map[string][]*Proc // per key, most recently used last
	back    map[string]int     // per key, processes on their way back (ReleaseAfter)
	total   int                // alive or starting processes
	changed chan struct{}      // closed and replaced whenever capacity may have freed
	stop    chan struct{}
}

// NewPool returns a pool of at most max processes whose idle ones exit after ttl.
func NewPool(max int, ttl time.Duration) *Pool {
	p := &Pool{max: max, ttl: ttl, idle: map[string][]*Proc{}, back: map[string]int{}, changed: make(chan struct{}), stop: make(chan struct{})}
	go p.janitor()
	return p
}

// Acquire returns an idle process for key (see poolKey) or starts one with start.
func (p *Pool) Acquire(ctx context.Context, key string, start func() (*Proc, error)) (*Proc, error) {
	for {
		p.mu.Lock()
		if pr := p.popIdle(key); pr != nil {
			p.mu.Unlock()
			return pr, nil
		}
		wait := p.changed
		if p.back[key] > 0 {
			// One of key's processes is about to be idle: wait for it rather than start one.
			p.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		if p.total >= p.max {
			if victim := p.lruIdle(); victim != nil {
				evictions.WithLabelValues("lru").Inc()
				victim.retire()
				p.total--
			}
		}
		if p.total < p.max {
			p.total++
			p.mu.Unlock()
			pr, err := start()
			if err != nil {
				p.mu.Lock()
				p.total--
				p.signal()
				p.mu.Unlock()
				return nil, err
			}
			return pr, nil
		}
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// ReleaseAfter returns a process once check (run in the background) says whether it
// is reusable. Until then Acquire of its key waits for it rather than starting
// another: the work after a run leaves the answer's path without costing a cold start.
func (p *Pool) ReleaseAfter(pr *Proc, check func() bool) {
	p.mu.Lock()
	p.back[pr.key]++
	p.mu.Unlock()
	go func() {
		reusable := check()
		p.mu.Lock()
		if p.back[pr.key]--; p.back[pr.key] == 0 {
			delete(p.back, pr.key)
		}
		p.mu.Unlock()
		p.Release(pr, reusable)
	}()
}

// Release returns a process after an invocation. A process that is not reusable
// (crashed, timed out, breached a limit, cancelled) is killed and its slot freed.
func (p *Pool) Release(pr *Proc, reusable bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	closed := false
	select {
	case <-p.stop:
		closed = true
	default:
	}
	if reusable && pr.alive() && !closed {
		pr.lastUsed = time.Now()
		p.idle[pr.key] = append(p.idle[pr.key], pr)
	} else {
		pr.retire()
		p.total--
	}
	p.signal()
}

// Close kills every idle process and stops the janitor.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.stop:
		return
	default:
		close(p.stop)
	}
	for d, list := range p.idle {
		for _, pr := range list {
			pr.retire()
			p.total--
		}
		delete(p.idle, d)
	}
}

// Stats returns the number of live processes and how many of them are idle.
func (p *Pool) Stats() (total, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.idle {
		idle += len(l)
	}
	return p.total, idle
}

// popIdle takes the most recently used live idle process of key; mu held.
func (p *Pool) popIdle(key string) *Proc {
	list := p.idle[key]
	for len(list) > 0 {
		pr := list[len(list)-1]
		list = list[:len(list)-1]
		if pr.alive() {
			p.setIdle(key, list)
			return pr
		}
		pr.retire()
		p.total--
	}
	p.setIdle(key, list)
	return nil
}

// lruIdle removes and returns the least recently used idle process; mu held.
func (p *Pool) lruIdle() *Proc {
	var best *Proc
	var bestKey string
	bestIdx := -1
	for d, list := range p.idle {
		for i, pr := range list {
			if best == nil || pr.lastUsed.Before(best.lastUsed) {
				best, bestKey, bestIdx = pr, d, i
			}
		}
	}
	if best != nil {
		list := p.idle[bestKey]
		p.setIdle(bestKey, append(list[:bestIdx:bestIdx], list[bestIdx+1:]...))
	}
	return best
}

func (p *Pool) setIdle(key string, list []*Proc) {
	if len(list) == 0 {
		delete(p.idle, key)
		return
	}
	p.idle[key] = list
}

// signal wakes waiters; mu held.
func (p *Pool) signal() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// janitor kills processes idle for longer than the TTL.
func (p *Pool) janitor() {
	tick := time.NewTicker(max(p.ttl/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-tick.C:
			p.mu.Lock()
			freed := false
			for d, list := range p.idle {
				keep := list[:0]
				for _, pr := range list {
					if now.Sub(pr.lastUsed) >= p.ttl || !pr.alive() {
						if pr.alive() {
							evictions.WithLabelValues("idle_ttl").Inc()
						}
						pr.retire()
						p.total--
						freed = true
						continue
					}
					keep = append(keep, pr)
				}
				p.setIdle(d, keep)
			}
			if freed {
				p.signal()
			}
			p.mu.Unlock()
		}
	}
}
