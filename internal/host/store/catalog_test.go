package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// resolves asserts that the dev alias of acme/hello resolves to version want.
func resolves(t *testing.T, st *Store, want int) {
	t.Helper()
	v, err := st.ResolveRef("acme", "hello", Ref{})
	if err != nil || v.Number != want {
		t.Fatalf("dev resolves to %+v, %v; want version %d", v, err, want)
	}
}

// deployT deploys a bundle with entry content c as the next version of acme/hello.
func deployT(t *testing.T, st *Store, c, alias string) *Version {
	t.Helper()
	v, err := st.CreateVersion("acme", "hello", bundle("i.js", map[string]string{"i.js": c}), alias)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// A read after a deploy, an alias change or a delete sees it, though the reads before
// it filled the cache.
func TestCatalogSeesEveryChange(t *testing.T) {
	st := openT(t)
	changeAndRead(t, st, st)
	if _, err := st.SetAlias("acme", "hello", "dev", 1); err != nil {
		t.Fatal(err)
	}
	resolves(t, st, 1)
	_, created, err := st.DeployVersion("acme", "hello", bundle("i.js", map[string]string{"i.js": "3"}), "dev")
	if err != nil || created {
		t.Fatalf("unchanged deploy: created %v, %v", created, err)
	}
	resolves(t, st, 3) // an unchanged deploy points the alias at the latest version
}

// changeAndRead deploys, re-points and deletes acme/hello on w, checking after each
// change that r (the same store, or a follower of w) reads it; it leaves version 3
// deployed on dev after the delete.
func changeAndRead(t *testing.T, w, r *Store) {
	t.Helper()
	deployT(t, w, "1", "dev")
	resolves(t, r, 1)
	deployT(t, w, "2", "dev")
	resolves(t, r, 2)
	if _, err := w.SetAlias("acme", "hello", "dev", 1); err != nil {
		t.Fatal(err)
	}
	resolves(t, r, 1)
	if err := w.DeleteFunction("acme", "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ResolveRef("acme", "hello", Ref{}); !errors.Is(err, ErrDeleted) {
		t.Fatalf("resolve after delete: %v", err)
	}
	if _, err := r.GetVersion("acme", "hello", 2); !errors.Is(err, ErrDeleted) {
		t.Fatalf("version of a deleted function: %v", err)
	}
	deployT(t, w, "3", "dev")
	resolves(t, r, 3)
}

// What a caller gets is its own copy: changing it changes nothing stored or cached.
func TestCatalogHandsOutCopies(t *testing.T) {
	st := openT(t)
	b := bundle("i.js", map[string]string{"i.js": "1"})
	b.Vars = map[string]string{"A": "1"}
	b.InputSchema = []byte(`{"type":"object"}`)
	if _, err := st.CreateVersion("acme", "hello", b, "dev"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first read fills the cache, the second reads it
		fn, err := st.GetFunction("acme", "hello")
		if err != nil {
			t.Fatal(err)
		}
		fn.Aliases["dev"] = 7
		v, err := st.ResolveRef("acme", "hello", Ref{})
		if err != nil {
			t.Fatal(err)
		}
		v.Vars["A"], v.Runtime, v.InputSchema[0] = "2", "python", 'x'
		w, err := st.GetVersion("acme", "hello", 1)
		if err != nil {
			t.Fatal(err)
		}
		w.Vars["A"] = "3"
	}
	fn, err := st.GetFunction("acme", "hello")
	if err != nil || fn.Aliases["dev"] != 1 {
		t.Fatalf("function %+v, %v", fn, err)
	}
	v, err := st.ResolveRef("acme", "hello", Ref{})
	if err != nil || v.Vars["A"] != "1" || v.Runtime != "bun" || string(v.InputSchema) != `{"type":"object"}` {
		t.Fatalf("version %+v, %v", v, err)
	}
}

// copyReplicator applies each write to every store, like a cluster's log: the first is
// the leader that proposed it, the others are followers.
type copyReplicator struct{ stores []*Store }

func (c copyReplicator) Propose(repr []byte) (func() error, error) {
	return func() error {
		for _, st := range c.stores {
			if err := st.ApplyReplicated(repr); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// A follower's cache sees the writes that reach it through the replicated log.
func TestCatalogFollowsReplicatedWrites(t *testing.T) {
	leader, follower := openT(t), openT(t)
	leader.SetReplicator(copyReplicator{stores: []*Store{leader, follower}})
	changeAndRead(t, leader, follower)
}

// A store restored from a snapshot reads the snapshot's functions, not its cache.
func TestCatalogClearedByRestore(t *testing.T) {
	src, st := openT(t), openT(t)
	deployT(t, st, "1", "dev")
	resolves(t, st, 1)
	deployT(t, src, "1", "")
	deployT(t, src, "2", "dev")
	snap := filepath.Join(t.TempDir(), "snap")
	if err := src.Checkpoint(snap); err != nil {
		t.Fatal(err)
	}
	if err := st.Restore(func(dir string) error { return copyDir(snap, dir) }); err != nil {
		t.Fatal(err)
	}
	resolves(t, st, 2)
}

// copyDir copies the regular files of from (a flat Pebble checkpoint) into to.
func copyDir(from, to string) error {
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range entries {
		in, err := os.Open(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		out, err := os.Create(filepath.Join(to, e.Name()))
		if err == nil {
			_, err = io.Copy(out, in)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
		}
		in.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func TestTouchesCatalog(t *testing.T) {
	st := openT(t)
	for _, c := range []struct {
		key  string
		want bool
	}{
		{"acme/fn/hello", true},
		{"acme/ver/hello/0000000001", true},
		{"acme/inv/0123", false},
		{"acme/invs/fn/hello/1/0123", false},
		{"acme/bundle/abc", false},
		{"\x00cluster/x", false},
	} {
		b := st.db.NewBatch()
		if err := b.Set([]byte(c.key), nil, nil); err != nil {
			t.Fatal(err)
		}
		if got := touchesCatalog(b.Repr()); got != c.want {
			t.Errorf("%q: touches catalog %v, want %v", c.key, got, c.want)
		}
		b.Close()
	}
}
