package store

import (
	"bytes"
	"encoding/json"
)

// clusterPrefix holds the cluster's own replicated records (internal/host/cluster: each node's
// API address). It sorts before every tenant ([a-z0-9]...) and is skipped by tenant scans.
var clusterPrefix = []byte("\x00cluster/")

// PutClusterMeta writes json(v) under the cluster key name (through the replicated log
// in cluster mode, like every write).
func (s *Store) PutClusterMeta(name string, v any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := setJSON(batch, append(bytes.Clone(clusterPrefix), name...), v); err != nil {
		return err
	}
	return s.commit(batch, "cluster record "+name)
}

// DeleteClusterMeta removes the cluster key name.
func (s *Store) DeleteClusterMeta(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := batch.Delete(append(bytes.Clone(clusterPrefix), name...), nil); err != nil {
		return err
	}
	return s.commit(batch, "delete cluster record "+name)
}

// ClusterMeta returns the cluster records whose name starts with prefix, by name.
func (s *Store) ClusterMeta(prefix string) (map[string]json.RawMessage, error) {
	out := map[string]json.RawMessage{}
	err := s.scanPrefix(append(bytes.Clone(clusterPrefix), prefix...), false, func(k, v []byte) (bool, error) {
		out[string(k[len(clusterPrefix):])] = bytes.Clone(v)
		return true, nil
	})
	return out, err
}
