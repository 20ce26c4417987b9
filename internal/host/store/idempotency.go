package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble"
)

// IdempotencyTTL is how long an Idempotency-Key maps to its invocation by default
// (config invoke.idempotency_ttl; see SetIdempotencyTTL).
const IdempotencyTTL = 24 * time.Hour

// SetIdempotencyTTL sets how long an Idempotency-Key maps to its invocation (<= 0:
// IdempotencyTTL).
func (s *Store) SetIdempotencyTTL(d time.Duration) {
	if d <= 0 {
		d = IdempotencyTTL
	}
	s.idemTTL.Store(int64(d))
}

func (s *Store) idempotencyTTL() time.Duration {
	if d := s.idemTTL.Load(); d > 0 {
		return time.Duration(d)
	}
	return IdempotencyTTL
}

type idemEntry struct {
	InvocationID string    `json:"invocation_id"`
	CreatedAt    time.Time `json:"created_at"`
}

// GetIdempotent returns the invocation id recorded for (tenant, function, key)
// if the entry exists and is younger than the idempotency TTL.
func (s *Store) GetIdempotent(tenant, function, key string) (string, bool, error) {
	var e idemEntry
	err := s.getJSON(idemKey(tenant, function, key), &e, "idempotency key")
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	if time.Since(e.CreatedAt) > s.idempotencyTTL() {
		return "", false, nil
	}
	return e.InvocationID, true, nil
}

// PutIdempotent records (tenant, function, key) -> invocation id now,
// replacing an older entry. CreateInvocation does this itself when the
// record carries an IdempotencyKey.
func (s *Store) PutIdempotent(tenant, function, key, invocationID string) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	e := idemEntry{InvocationID: invocationID, CreatedAt: time.Now().UTC()}
	if err := setJSON(batch, idemKey(tenant, function, key), e); err != nil {
		return err
	}
	return s.commit(batch, "idempotency key "+key)
}

// DeleteIdempotent forgets (tenant, function, key), e.g. when the invocation it named
// could not be queued, so that a retry with the same key runs.
func (s *Store) DeleteIdempotent(tenant, function, key string) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := batch.Delete(idemKey(tenant, function, key), nil); err != nil {
		return fmt.Errorf("delete idempotency key %s: %w", key, err)
	}
	return s.commit(batch, "delete idempotency key "+key)
}

// PruneIdempotency deletes idempotency entries older than the idempotency TTL in
// every tenant and returns how many it removed.
func (s *Store) PruneIdempotency() (int, error) {
	tenants, err := s.tenants()
	if err != nil {
		return 0, err
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	n := 0
	for _, t := range tenants {
		err := s.scanPrefix(prefix(t, "idem"), false, func(k, v []byte) (bool, error) {
			var e idemEntry
			if err := decode(v, &e, "idempotency entry"); err != nil {
				return false, err
			}
			if time.Since(e.CreatedAt) > s.idempotencyTTL() {
				n++
				return true, batch.Delete(append([]byte(nil), k...), nil)
			}
			return true, nil
		})
		if err != nil {
			return 0, err
		}
	}
	if n == 0 {
		return 0, nil
	}
	if err := batch.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("prune idempotency keys: %w", err)
	}
	return n, nil
}
