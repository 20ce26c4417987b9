package bench

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/sous-run/sous/internal/host/cluster"
	"github.com/sous-run/sous/internal/host/store"
)

// Replication is what the replicated control plane costs: the store's deploy rate and
// invocation-record rate (create + running + final) on one node without raft, one node
// with raft, and three raft nodes on loopback with mutual TLS, in the same run. The API,
// queue and executor in front of these writes are the same in every setup.
type Replication struct {
	Deploys, Invocations, Writers int
	Rows                          []ReplicationRow
}

// ReplicationRow is one setup.
type ReplicationRow struct {
	Setup          string
	DeploysPerSec  float64
	DeployP50      time.Duration
	InvocationsSec float64
	InvocationP50  time.Duration
}

// replicationCost measures the three setups.
func replicationCost(o *Options) (*Replication, error) {
	dir, err := os.MkdirTemp("", "sous-bench-raft-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rep := &Replication{Deploys: 300, Invocations: o.Records, Writers: 32}
	setups := []struct {
		name  string
		nodes int // 0: no raft
	}{{"1 node, no raft (direct Pebble)", 0}, {"1 node, raft", 1}, {"3 nodes, raft (loopback, TLS)", 3}}
	for i, su := range setups {
		o.say("· replication: %s", su.name)
		base := fmt.Sprintf("%s/%d", dir, i)
		st, stop, err := openSetup(base, su.nodes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", su.name, err)
		}
		row := ReplicationRow{Setup: su.name}
		row.DeployP50, row.DeploysPerSec, err = concurrently(rep.Deploys, 4, func(i int) error {
			b := &store.Bundle{Runtime: "bun", Entry: "index.js", Files: map[string][]byte{"index.js": []byte(fmt.Sprintf("export default () => %d;\n", i))}}
			_, err := st.CreateVersion("default", fmt.Sprintf("bench-%d", i%4), b, "dev")
			return err
		})
		if err == nil {
			row.InvocationP50, row.InvocationsSec, err = concurrently(rep.Invocations, rep.Writers, func(int) error { return oneRecord(st) })
		}
		stop()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", su.name, err)
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

// openSetup opens a plain store (nodes 0) or an in-process raft cluster's leader store.
func openSetup(base string, nodes int) (*store.Store, func(), error) {
	if nodes == 0 {
		st, err := store.Open(base)
		if err != nil {
			return nil, nil, err
		}
		return st, func() { _ = st.Close() }, nil
	}
	l, err := cluster.StartLocal(base, nodes, nil)
	if err != nil {
		return nil, nil, err
	}
	return l.Stores[0], l.Close, nil
}

// concurrently runs op(0..n-1) from workers goroutines: p50 of one op and ops/s.
func concurrently(n, workers int, op func(i int) error) (time.Duration, float64, error) {
	lat := make([]time.Duration, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				if err := op(i); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, 0, firstErr
	}
	p50, _ := percentiles(lat)
	return p50, float64(n) / time.Since(start).Seconds(), nil
}

// print writes the replication table, each rate also as a ratio to the
// single node without raft.
func (r *Replication) print(w io.Writer) {
	if r == nil || len(r.Rows) == 0 {
		return
	}
	base := r.Rows[0]
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| control plane replication (store writes; %d deploys from 4 writers, %d invocations from %d writers) | deploys/s | deploy p50 | invocations/s | invocation p50 | deploys/s vs no raft | invocations/s vs no raft |\n",
		r.Deploys, r.Invocations, r.Writers)
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "| %s | %.0f | %s | %.0f | %s | %.2f× | %.2f× |\n", row.Setup, row.DeploysPerSec, ms(row.DeployP50),
			row.InvocationsSec, ms(row.InvocationP50), row.DeploysPerSec/base.DeploysPerSec, row.InvocationsSec/base.InvocationsSec)
	}
}
