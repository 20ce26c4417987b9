package store

import (
	"fmt"
	"time"
)

// DrainAfterDelete is how long a deleted function still counts as deployed for workers,
// so invocations accepted before the delete still run (records left open longer are
// labelled by the reaper after invoke.stale_after, like any invocation no worker takes).
const DrainAfterDelete = time.Hour

// DeployedFunctions returns every function not deleted (or deleted less than
// DrainAfterDelete ago), across tenants, in tenant then name order: the queues a worker
// serving every function consumes.
func (s *Store) DeployedFunctions() ([]*Function, error) {
	tenants, err := s.tenants()
	if err != nil {
		return nil, fmt.Errorf("deployed functions: %w", err)
	}
	drained := time.Now().Add(-DrainAfterDelete)
	var out []*Function
	for _, t := range tenants {
		if !ValidTenant(t) {
			continue // not a tenant's namespace
		}
		err := s.scanPrefix(prefix(t, "fn"), false, func(_, v []byte) (bool, error) {
			f := new(Function)
			if err := decode(v, f, "function"); err != nil {
				return false, err
			}
			if !f.Deleted() || f.DeletedAt.After(drained) {
				out = append(out, f)
			}
			return true, nil
		})
		if err != nil {
			return nil, fmt.Errorf("deployed functions of %s: %w", t, err)
		}
	}
	return out, nil
}
