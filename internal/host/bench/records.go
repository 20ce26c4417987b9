package bench

import (
	"fmt"
	"os"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
	"github.com/sous-run/sous/internal/host/store"
)

// RecordCost is what durable invocation records cost: the same writes (create, running,
// final per invocation, from many goroutines) with fsync before each answer, as the
// host runs, and without (as before records were durable), in the same run.
type RecordCost struct {
	Invocations, Writers int
	Durable, NoSync      time.Duration // p50 of one invocation's three writes
	DurablePerSec        float64
	NoSyncPerSec         float64
}

// measureRecords runs the record writes of n invocations from writers goroutines on a
// store in a new directory under dir.
func measureRecords(dir string, n, writers int, opt store.Options) (p50 time.Duration, perSec float64, err error) {
	sdir, err := os.MkdirTemp(dir, "records-")
	if err != nil {
		return 0, 0, err
	}
	st, err := store.OpenWith(sdir, opt)
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	return concurrently(n, writers, func(int) error { return oneRecord(st) })
}

// oneRecord is the life of one record: pending, running, succeeded.
func oneRecord(st *store.Store) error {
	rec, _, err := st.CreateInvocation(&store.Invocation{Tenant: "default", Function: "bench", Version: 1, Input: []byte(`{"n":1}`)})
	if err != nil {
		return err
	}
	for _, s := range []invocation.Status{invocation.StatusRunning, invocation.StatusSucceeded} {
		if _, err := st.UpdateInvocation("default", rec.ID, func(r *store.Invocation) error { r.Status = s; return nil }); err != nil {
			return err
		}
	}
	return nil
}

// recordCost measures both ways in one run.
func recordCost(o *Options) (*RecordCost, error) {
	dir, err := os.MkdirTemp("", "sous-bench-records-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	rc := &RecordCost{Invocations: o.Records, Writers: 32}
	o.say("· invocation records: %d invocations from %d writers, durable and not", rc.Invocations, rc.Writers)
	if rc.Durable, rc.DurablePerSec, err = measureRecords(dir, rc.Invocations, rc.Writers, store.Options{}); err != nil {
		return nil, fmt.Errorf("durable records: %w", err)
	}
	if rc.NoSync, rc.NoSyncPerSec, err = measureRecords(dir, rc.Invocations, rc.Writers, store.Options{NoSyncRecords: true}); err != nil {
		return nil, fmt.Errorf("records without fsync: %w", err)
	}
	return rc, nil
}
