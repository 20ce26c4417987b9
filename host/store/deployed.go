package store

import "fmt"

// DeployedFunctions returns every function not deleted, across tenants, in tenant then
// name order: the queues a worker serving every function consumes.
func (s *Store) DeployedFunctions() ([]*Function, error) {
	tenants, err := s.tenants()
	if err != nil {
		return nil, fmt.Errorf("deployed functions: %w", err)
	}
	var out []*Function
	for _, t := range tenants {
		if !ValidTenant(t) {
			continue // not a tenant's namespace
		}
		fns, err := s.ListFunctions(t)
		if err != nil {
			return nil, fmt.Errorf("deployed functions of %s: %w", t, err)
		}
		out = append(out, fns...)
	}
	return out, nil
}
