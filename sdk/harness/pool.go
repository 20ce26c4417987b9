package harness

import (
	"context"
	"runtime"
	"sync"
	"time"
)

// Pool keeps warm harness processes per key (tenant, function version, digest). A process serves one
// invocation at a time; at most max processes are alive at once. When the pool is
// full, an idle process of another key (least recently used first) is evicted;
// when none is idle, Acquire waits for a release.
//
// A process is started in the background, at most one at a time per key, and a run
// takes whichever comes first: a process of its key released by another run, or the
// one started. A start (a jail and a runtime booting, tens of milliseconds of CPU) then
// never holds up a run that a warm process frees sooner. A run of a key that already
// has processes starts one only after waiting as long as a start takes (rent or buy:
// never more than twice the better choice): a burst of short runs is served by the
// warm processes instead of growing the pool, whose starts would take the CPU the runs
// need; runs that hold their processes long still grow it, one process at a time.
// Past one process per CPU, a key grows only when its runs hold a process at least as
// long as a start takes: more processes cannot speed up short runs that already keep
// every CPU busy, and their starts take CPU from the runs (at 32 clients of a trivial
// function, 8 processes gave a p99 3–8× that of 2).
type Pool struct {
	max int
	ttl time.Duration

	mu       sync.Mutex
	idle     map[string][]*Proc // per key, most recently used last
	total    int                // alive or starting processes
	starting map[string]bool    // keys with a start in flight
	back     map[string]int     // per key, processes on their way back (ReleaseAfter)
	perKey   map[string]int     // alive or starting processes per key
	// startCost is a moving average of how long a start takes: how long a run waits
	// for a busy process of its key to be released before it starts one.
	startCost time.Duration
	hold      map[string]time.Duration // moving average of how long a run holds a process, per key
	cpus      int                      // processes a key grows to whatever its runs' length
	changed   chan struct{}            // closed and replaced whenever capacity may have freed
	stop      chan struct{}
}

// NewPool returns a pool of at most max processes whose idle ones exit after ttl.
func NewPool(max int, ttl time.Duration) *Pool {
	p := &Pool{max: max, ttl: ttl, idle: map[string][]*Proc{}, starting: map[string]bool{}, back: map[string]int{},
		perKey: map[string]int{}, hold: map[string]time.Duration{}, cpus: runtime.NumCPU(), changed: make(chan struct{}), stop: make(chan struct{})}
	go p.janitor()
	return p
}

// Acquire returns an idle process for key (see poolKey), else the first process of key
// that becomes idle: released by another run, or started with start by this call when
// no start of key is in flight and either key has no process or this call has waited
// startCost. A failed start is returned to the call that asked for it.
func (p *Pool) Acquire(ctx context.Context, key string, start func() (*Proc, error)) (*Proc, error) {
	var mine chan error // the outcome of the start this call asked for; nil: none pending
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	began := time.Now()
	for {
		p.mu.Lock()
		if pr := p.popIdle(key); pr != nil {
			p.mu.Unlock()
			return pr, nil
		}
		var later <-chan time.Time // when this call may start a process of a busy key
		// A process of key on its way back (ReleaseAfter) is waited for, never raced.
		if mine == nil && !p.starting[key] && p.back[key] == 0 && p.mayGrow(key) {
			patience := time.Duration(0)
			if p.perKey[key] > 0 {
				patience = p.startCost - time.Since(began)
			}
			switch {
			case patience > 0:
				if timer == nil {
					timer = time.NewTimer(patience)
				} else {
					timer.Reset(patience)
				}
				later = timer.C
			case p.room():
				p.added(key)
				p.starting[key] = true
				mine = make(chan error, 1)
				go p.spawn(key, start, mine)
			}
		}
		wait := p.changed
		p.mu.Unlock()
		select {
		case <-wait:
		case <-later:
		case err := <-mine:
			if err != nil {
				return nil, err
			}
			mine = nil // the process is idle (or already taken by another run): look again
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// room reports whether one more process may start, evicting the least recently used
// idle process of another key when the pool is full; mu held.
func (p *Pool) room() bool {
	if p.total >= p.max {
		if victim := p.lruIdle(); victim != nil {
			evictions.WithLabelValues("lru").Inc()
			victim.retire()
			p.gone(victim.key)
		}
	}
	return p.total < p.max
}

// spawn runs start and puts the process among key's idle ones (retired instead when
// the pool was closed meanwhile), then reports the outcome on done.
func (p *Pool) spawn(key string, start func() (*Proc, error), done chan<- error) {
	t0 := time.Now()
	pr, err := start()
	took := time.Since(t0)
	p.mu.Lock()
	delete(p.starting, key)
	switch {
	case err != nil:
		p.gone(key)
	case p.closed():
		pr.retire()
		p.gone(key)
	default:
		if p.startCost == 0 {
			p.startCost = took
		} else {
			p.startCost = (3*p.startCost + took) / 4
		}
		pr.lastUsed = time.Now()
		p.idle[key] = append(p.idle[key], pr)
	}
	p.signal()
	p.mu.Unlock()
	done <- err
}

// mayGrow reports whether key may have one more process: it has fewer than one per
// CPU, or its runs hold their processes at least as long as a start takes; mu held.
func (p *Pool) mayGrow(key string) bool {
	return p.perKey[key] < p.cpus || p.hold[key] >= p.startCost
}

// added counts a process of key that is starting; mu held.
func (p *Pool) added(key string) {
	p.total++
	p.perKey[key]++
}

// gone uncounts a process of key that was retired or failed to start; mu held.
func (p *Pool) gone(key string) {
	p.total--
	if p.perKey[key]--; p.perKey[key] <= 0 {
		delete(p.perKey, key)
		delete(p.hold, key)
	}
}

// closed reports whether Close was called; mu held.
func (p *Pool) closed() bool {
	select {
	case <-p.stop:
		return true
	default:
		return false
	}
}

// ReleaseAfter returns a process once check (run in the background) says whether it
// is reusable. Until then Acquire of its key waits for it rather than starting
// another: the work after a run leaves the answer's path without costing a start.
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
	if h, ok := p.hold[pr.key]; ok {
		p.hold[pr.key] = (3*h + time.Since(pr.taken)) / 4
	} else {
		p.hold[pr.key] = time.Since(pr.taken)
	}
	if reusable && pr.alive() && !p.closed() {
		pr.lastUsed = time.Now()
		p.idle[pr.key] = append(p.idle[pr.key], pr)
	} else {
		pr.retire()
		p.gone(pr.key)
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
			p.gone(pr.key)
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
			pr.taken = time.Now()
			return pr
		}
		pr.retire()
		p.gone(pr.key)
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
						p.gone(pr.key)
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
