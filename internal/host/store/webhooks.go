package store

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// SecretOverlap is how long the previous webhook secret still signs after a rotation,
// so receivers can switch without missing a delivery.
const SecretOverlap = 24 * time.Hour

// WebhookSecret is a tenant's webhook signing secret. After a rotation Previous keeps
// signing (a second v1 signature) until PreviousUntil.
type WebhookSecret struct {
	Secret        string     `json:"secret"`
	CreatedAt     time.Time  `json:"created_at"`
	Previous      string     `json:"previous,omitempty"`
	PreviousUntil *time.Time `json:"previous_until,omitempty"`
}

// Signing returns the secrets that sign a delivery now: the current one first.
func (w *WebhookSecret) Signing(now time.Time) []string {
	out := []string{w.Secret}
	if w.Previous != "" && w.PreviousUntil != nil && now.Before(*w.PreviousUntil) {
		out = append(out, w.Previous)
	}
	return out
}

func secretKey(t string) []byte { return key(t, "webhook", "secret") }

// onCompleteKey holds a version's on_complete URL (sous.yaml), apart from the bundle:
// it does not change what runs, so it is not part of the digest.
func onCompleteKey(t, name string, n int) []byte {
	return key(t, "webhook", "on_complete", name, fmt.Sprintf("%010d", n))
}

func newSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + hex.EncodeToString(b[:])
}

// WebhookSecret returns the tenant's signing secret, creating it on first use.
func (s *Store) WebhookSecret(tenant string) (*WebhookSecret, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	return s.writeSecret(tenant, false)
}

// RotateWebhookSecret replaces the tenant's secret; the old one keeps signing for
// SecretOverlap.
func (s *Store) RotateWebhookSecret(tenant string) (*WebhookSecret, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	return s.writeSecret(tenant, true)
}

// writeSecret makes a new secret when rotate is set or there is none yet.
func (s *Store) writeSecret(tenant string, rotate bool) (*WebhookSecret, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var old WebhookSecret
	err := s.getJSON(secretKey(tenant), &old, "webhook secret")
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err == nil && !rotate {
		return &old, nil
	}
	now := time.Now().UTC()
	w := &WebhookSecret{Secret: newSecret(), CreatedAt: now}
	if old.Secret != "" {
		until := now.Add(SecretOverlap)
		w.Previous, w.PreviousUntil = old.Secret, &until
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := setJSON(batch, secretKey(tenant), w); err != nil {
		return nil, err
	}
	if err := s.commit(batch, "webhook secret of "+tenant); err != nil {
		return nil, err
	}
	return w, nil
}

// SetOnComplete records the on_complete URL of a deployed version ("" clears it).
func (s *Store) SetOnComplete(tenant, name string, version int, url string) error {
	if err := checkTenant(tenant); err != nil {
		return err
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	k := onCompleteKey(tenant, name, version)
	var err error
	if url == "" {
		err = batch.Delete(k, nil)
	} else {
		err = batch.Set(k, []byte(url), nil)
	}
	if err != nil {
		return err
	}
	return s.commit(batch, fmt.Sprintf("on_complete of %s@%d", name, version))
}

// OnComplete returns the on_complete URL of a version ("" when it has none).
func (s *Store) OnComplete(tenant, name string, version int) (string, error) {
	if err := checkTenant(tenant); err != nil {
		return "", err
	}
	var url string
	err := s.getRaw(onCompleteKey(tenant, name, version), func(v []byte) { url = string(v) })
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	return url, err
}

// getRaw passes the value of key to fn (valid only during fn); ErrNotFound if absent.
func (s *Store) getRaw(k []byte, fn func([]byte)) error {
	found := false
	err := s.scanRange(k, append(append([]byte(nil), k...), 0), false, func(_, v []byte) (bool, error) {
		found = true
		fn(v)
		return false, nil
	})
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s: %w", k, ErrNotFound)
	}
	return nil
}
