package store

import "fmt"

// DeployVersion stores b as a new version like CreateVersion, unless b is
// identical (same digest) to the live function's latest version: then no
// version is made, alias is pointed at that latest version, and it is returned
// with created false ("unchanged, still version N").
func (s *Store) DeployVersion(tenant, name string, b *Bundle, alias string) (v *Version, created bool, err error) {
	return s.createVersion(tenant, name, b, alias, true)
}

// reuseLatest returns fn's latest version and true when its digest is digest,
// pointing alias at it. The caller holds s.mu.
func (s *Store) reuseLatest(fn *Function, digest, alias string) (*Version, bool, error) {
	var v Version
	if err := s.getJSON(verKey(fn.Tenant, fn.Name, fn.Latest), &v, fmt.Sprintf("version %d of %s", fn.Latest, fn.Name)); err != nil {
		return nil, false, err
	}
	if v.Digest != digest {
		return nil, false, nil
	}
	if alias == "" || fn.Aliases[alias] == v.Number {
		return &v, true, nil
	}
	if fn.Aliases == nil {
		fn.Aliases = map[string]int{}
	}
	fn.Aliases[alias] = v.Number
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := setJSON(batch, fnKey(fn.Tenant, fn.Name), fn); err != nil {
		return nil, false, err
	}
	if err := s.commit(batch, "alias "+fn.Name+"/"+alias); err != nil {
		return nil, false, err
	}
	return &v, true, nil
}
