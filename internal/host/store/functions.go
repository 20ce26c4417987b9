package store

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sous-run/sous/internal/host/invocation"
)

// Function is a named function of one tenant: its version counter and aliases.
type Function struct {
	Tenant    string         `json:"tenant"`
	Name      string         `json:"name"`
	Latest    int            `json:"latest_version"`
	Aliases   map[string]int `json:"aliases"` // alias (environment) -> version number
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	DeletedAt *time.Time     `json:"deleted_at,omitempty"`
}

// Deleted reports whether the function was soft-deleted.
func (f *Function) Deleted() bool { return f.DeletedAt != nil }

// Version is one immutable deploy of a function. Its code and settings are
// the bundle named by Digest.
type Version struct {
	Function  string            `json:"function"`
	Number    int               `json:"version"`
	Digest    string            `json:"digest"`
	Runtime   string            `json:"runtime"`
	Entry     string            `json:"entry"`
	Vars      map[string]string `json:"vars,omitempty"`
	TimeoutMS int               `json:"timeout_ms"`
	MemoryMB  int               `json:"memory_mb"`
	Network   string            `json:"network,omitempty"`
	Files     int               `json:"files"`
	Size      int64             `json:"size_bytes"`
	CreatedAt time.Time         `json:"created_at"`
	Meta                        // description and input schema, as deployed
}

// Ref names a version to run: a version number if Version > 0, otherwise
// the alias Env ("dev" when empty).
type Ref struct {
	Env     string
	Version int
}

// DefaultEnv is the alias a deploy sets and a Ref without env resolves.
const DefaultEnv = invocation.DevEnv

// CreateVersion stores bundle b as the next version of function name
// (creating the function, or reviving a deleted one), stores the bundle under
// its digest unless already present, and points alias at the new version
// (no alias if alias is ""). All of it is one durable batch.
func (s *Store) CreateVersion(tenant, name string, b *Bundle, alias string) (*Version, error) {
	v, _, err := s.createVersion(tenant, name, b, alias, false)
	return v, err
}

// createVersion is CreateVersion; with reuse, a bundle identical to the live
// function's latest version makes no new version (see DeployVersion).
func (s *Store) createVersion(tenant, name string, b *Bundle, alias string, reuse bool) (*Version, bool, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, false, err
	}
	if err := checkName("function name", name); err != nil {
		return nil, false, err
	}
	if err := s.space.check("deploy " + name); err != nil {
		return nil, false, err
	}
	if alias != "" {
		if err := checkName("alias", alias); err != nil {
			return nil, false, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now().UTC()
	fn, err := s.GetFunction(tenant, name)
	switch {
	case errors.Is(err, ErrNotFound):
		fn = &Function{Tenant: tenant, Name: name, CreatedAt: now}
	case errors.Is(err, ErrDeleted):
		fn.DeletedAt = nil // a deploy revives a deleted function; versions keep counting
		fn.Aliases = nil
	case err != nil:
		return nil, false, err
	}
	added := err != nil // new, or revived after a delete
	digest := b.Digest()
	if reuse && err == nil && fn.Latest > 0 {
		if v, same, err := s.reuseLatest(fn, digest, alias); err != nil || same {
			return v, false, err
		}
	}
	v := &Version{
		Function: name, Number: fn.Latest + 1, Digest: digest,
		Runtime: b.Runtime, Entry: b.Entry, Vars: b.Vars, TimeoutMS: b.TimeoutMS, MemoryMB: b.MemoryMB, Network: b.Network,
		Files: len(b.Files), Size: b.Size(), CreatedAt: now, Meta: b.Meta,
	}
	fn.Latest, fn.UpdatedAt = v.Number, now
	if alias != "" {
		if fn.Aliases == nil {
			fn.Aliases = map[string]int{}
		}
		fn.Aliases[alias] = v.Number
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	have, err := s.exists(bundleKey(tenant, digest))
	if err != nil {
		return nil, false, fmt.Errorf("read bundle %s: %w", digest, err)
	}
	if !have {
		if err := setJSON(batch, bundleKey(tenant, digest), b); err != nil {
			return nil, false, err
		}
	}
	if err := setJSON(batch, verKey(tenant, name, v.Number), v); err != nil {
		return nil, false, err
	}
	if err := setJSON(batch, fnKey(tenant, name), fn); err != nil {
		return nil, false, err
	}
	if err := s.commit(batch, fmt.Sprintf("version %s/%s@%d", tenant, name, v.Number)); err != nil {
		return nil, false, err
	}
	if added {
		s.fnAdded.fire()
	}
	return v, true, nil
}

// GetFunction returns the function. A deleted function is returned together
// with an error wrapping ErrDeleted; an unknown one gives ErrNotFound.
func (s *Store) GetFunction(tenant, name string) (*Function, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	f, err := s.loadFunction(tenant, name)
	if f != nil {
		f = f.clone()
	}
	return f, err
}

// loadFunction is GetFunction returning the cached record, which must not be modified.
func (s *Store) loadFunction(tenant, name string) (*Function, error) {
	id := fnID{tenant, name}
	f, gen := s.cat.function(id)
	if f == nil {
		f = new(Function)
		if err := s.getJSON(fnKey(tenant, name), f, "function "+name); err != nil {
			return nil, err
		}
		s.cat.putFunction(id, f, gen)
	}
	if f.Deleted() {
		return f, fmt.Errorf("function %s: %w", name, ErrDeleted)
	}
	return f, nil
}

// ListFunctions returns the tenant's functions in name order, without deleted ones.
func (s *Store) ListFunctions(tenant string) ([]*Function, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	out := []*Function{}
	err := s.scanPrefix(prefix(tenant, "fn"), false, func(_, v []byte) (bool, error) {
		f := new(Function)
		if err := decode(v, f, "function"); err != nil {
			return false, err
		}
		if !f.Deleted() {
			out = append(out, f)
		}
		return true, nil
	})
	return out, err
}

// DeleteFunction soft-deletes a function: it disappears from lists, cannot
// be resolved or invoked, and its aliases are cleared. Versions, bundles and
// invocation records stay (history, in-flight runs). Deploying the name again
// revives it with the next version number.
func (s *Store) DeleteFunction(tenant, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn, err := s.GetFunction(tenant, name)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	fn.DeletedAt, fn.UpdatedAt, fn.Aliases = &now, now, nil
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := setJSON(batch, fnKey(tenant, name), fn); err != nil {
		return err
	}
	return s.commit(batch, "delete function "+name)
}

// ListVersions returns the function's versions, newest first.
func (s *Store) ListVersions(tenant, name string) ([]*Version, error) {
	if _, err := s.GetFunction(tenant, name); err != nil {
		return nil, err
	}
	out := []*Version{}
	err := s.scanPrefix(prefix(tenant, "ver", name), true, func(_, v []byte) (bool, error) {
		ver := new(Version)
		if err := decode(v, ver, "version"); err != nil {
			return false, err
		}
		out = append(out, ver)
		return true, nil
	})
	return out, err
}

// GetVersion returns version n of a function that is not deleted.
func (s *Store) GetVersion(tenant, name string, n int) (*Version, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	if _, err := s.loadFunction(tenant, name); err != nil {
		return nil, err
	}
	v, err := s.loadVersion(tenant, name, n)
	if err != nil {
		return nil, err
	}
	return v.clone(), nil
}

// loadVersion reads version n through the cache; the result must not be modified.
func (s *Store) loadVersion(tenant, name string, n int) (*Version, error) {
	id := verID{tenant, name, n}
	v, gen := s.cat.version(id)
	if v != nil {
		return v, nil
	}
	v = new(Version)
	if err := s.getJSON(verKey(tenant, name, n), v, fmt.Sprintf("version %d of %s", n, name)); err != nil {
		return nil, err
	}
	s.cat.putVersion(id, v, gen)
	return v, nil
}

// SetAlias points alias (an environment such as "prod") at version n, which
// must exist. It returns the updated function.
func (s *Store) SetAlias(tenant, name, alias string, n int) (*Function, error) {
	if err := checkName("alias", alias); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.GetVersion(tenant, name, n); err != nil {
		return nil, err
	}
	fn, err := s.GetFunction(tenant, name)
	if err != nil {
		return nil, err
	}
	if fn.Aliases == nil {
		fn.Aliases = map[string]int{}
	}
	fn.Aliases[alias] = n
	fn.UpdatedAt = time.Now().UTC()
	batch := s.db.NewBatch()
	defer batch.Close()
	if err := setJSON(batch, fnKey(tenant, name), fn); err != nil {
		return nil, err
	}
	if err := s.commit(batch, "alias "+name+"/"+alias); err != nil {
		return nil, err
	}
	return fn, nil
}

// ResolveRef finds the version a ref names: ref.Version if set, else the
// version the alias ref.Env (default "dev") points at. A deleted function
// gives ErrDeleted; an unknown function, alias or version ErrNotFound.
func (s *Store) ResolveRef(tenant, name string, ref Ref) (*Version, error) {
	if ref.Version > 0 {
		return s.GetVersion(tenant, name, ref.Version)
	}
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	fn, err := s.loadFunction(tenant, name)
	if err != nil {
		return nil, err
	}
	env := ref.Env
	if env == "" {
		env = DefaultEnv
	}
	n, ok := fn.Aliases[env]
	if !ok {
		return nil, fmt.Errorf("function %s has no alias %q (point it at a version with `sous promote %s --to %s`, or PUT /v1/functions/%s/aliases/%s): %w",
			name, env, name, env, name, env, ErrNotFound)
	}
	v, err := s.loadVersion(tenant, name, n)
	if err != nil {
		return nil, err
	}
	return v.clone(), nil
}

// ParseRef reads a ref from an env name and a version string (either may be
// empty); a version must be a positive integer.
func ParseRef(env, version string) (Ref, error) {
	if version == "" {
		return Ref{Env: env}, nil
	}
	n, err := strconv.Atoi(version)
	if err != nil || n < 1 {
		return Ref{}, fmt.Errorf("version %q must be a positive integer: %w", version, ErrInvalid)
	}
	return Ref{Env: env, Version: n}, nil
}
