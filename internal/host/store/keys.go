package store

import (
	"fmt"
	"regexp"
	"time"
)

// Key layout (every key starts with the tenant; '/' never occurs in tenants,
// function names or aliases, so prefixes cannot collide):
//
//	<t>/fn/<name>                              Function (JSON)
//	<t>/ver/<name>/<N:010d>                    Version (JSON)
//	<t>/bundle/<digest>                        Bundle (JSON), deduplicated by digest
//	<t>/inv/<id>                               Invocation (JSON); ids sort by creation time
//	<t>/invs/status/<status>/<created:020d>/<id>   status index (created = unix nanoseconds)
//	<t>/invs/fn/<name>/<created:020d>/<id>         per-function index
//	<t>/idem/<name>/<key>                      idempotency entry {invocation_id, created}

var (
	tenantRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	nameRe   = regexp.MustCompile(`^[a-z][a-z0-9-]{1,62}$`)
)

// ValidName reports whether s is a valid function or alias name: [a-z][a-z0-9-]{1,62}.
func ValidName(s string) bool { return nameRe.MatchString(s) }

// ValidTenant reports whether s is a valid tenant id: [a-z0-9][a-z0-9_-]{0,62}.
func ValidTenant(s string) bool { return tenantRe.MatchString(s) }

func checkTenant(t string) error {
	if !ValidTenant(t) {
		return fmt.Errorf("tenant %q must match [a-z0-9][a-z0-9_-]{0,62}: %w", t, ErrInvalid)
	}
	return nil
}

func checkName(what, n string) error {
	if !ValidName(n) {
		return fmt.Errorf("%s %q must match [a-z][a-z0-9-]{1,62}: %w", what, n, ErrInvalid)
	}
	return nil
}

func key(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p) + 1
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, '/')
		}
		b = append(b, p...)
	}
	return b
}

// prefix returns key(parts...)+"/".
func prefix(parts ...string) []byte { return append(key(parts...), '/') }

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func fnKey(t, name string) []byte         { return key(t, "fn", name) }
func verKey(t, name string, n int) []byte { return key(t, "ver", name, fmt.Sprintf("%010d", n)) }
func bundleKey(t, digest string) []byte   { return key(t, "bundle", digest) }
func invKey(t, id string) []byte          { return key(t, "inv", id) }
func idemKey(t, name, k string) []byte    { return key(t, "idem", name, k) }
func stamp(ts time.Time) string           { return fmt.Sprintf("%020d", ts.UnixNano()) }

func statusIdxKey(inv *Invocation) []byte {
	return key(inv.Tenant, "invs", "status", string(inv.Status), stamp(inv.CreatedAt), inv.ID)
}

func fnIdxKey(inv *Invocation) []byte {
	return key(inv.Tenant, "invs", "fn", inv.Function, stamp(inv.CreatedAt), inv.ID)
}

// tenants lists every tenant with at least one key, by skip-scanning the
// keyspace (one seek per tenant), so no tenant registry is needed.
func (s *Store) tenants() ([]string, error) {
	var out []string
	lo := []byte("0") // the lowest tenant; the cluster's records (\x00cluster/) sort before it
	for {
		var first []byte
		err := s.scanRange(lo, nil, false, func(k, _ []byte) (bool, error) {
			first = append([]byte(nil), k...)
			return false, nil
		})
		if err != nil {
			return nil, err
		}
		if first == nil {
			return out, nil
		}
		t := first
		for i, c := range first {
			if c == '/' {
				t = first[:i]
				break
			}
		}
		out = append(out, string(t))
		lo = prefixEnd(prefix(string(t)))
	}
}
