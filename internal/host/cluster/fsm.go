package cluster

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"

	"github.com/sous-run/sous/internal/host/store"
)

// fsm applies committed entries to the Pebble store. Entries are blind writes (the
// leader did the read-modify-write before proposing), so replaying them in order from
// any earlier point gives the same state.
type fsm struct {
	st  *store.Store
	dir string
	log hclog.Logger
	seq atomic.Uint64 // names checkpoint directories
}

// Apply is raft.FSM.
func (f *fsm) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch is raft.BatchingFSM: the entries raft hands over at once go into Pebble as
// one batch (followers applying a burst of records commit it once).
func (f *fsm) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	var reprs [][]byte
	for _, l := range logs {
		if l.Type != raft.LogCommand || len(l.Data) == 0 {
			continue
		}
		if l.Data[0] != entryBatch {
			f.log.Error("unknown log entry kind; skipped", "index", l.Index, "kind", l.Data[0])
			continue
		}
		reprs = append(reprs, l.Data[1:])
	}
	if err := f.st.ApplyReplicated(reprs...); err != nil {
		// The store is closed or broken: raft must not think this node applied it.
		f.log.Error("apply replicated writes", "error", err)
		panic(fmt.Sprintf("cluster: apply log entries %d..%d: %v", logs[0].Index, logs[len(logs)-1].Index, err))
	}
	return out
}

// Snapshot is raft.FSM: a Pebble checkpoint (hard links, cheap), streamed by Persist
// while new entries keep being applied.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	dir := filepath.Join(f.dir, fmt.Sprintf("checkpoint-%d-%d", os.Getpid(), f.seq.Add(1)))
	_ = os.RemoveAll(dir)
	if err := f.st.Checkpoint(dir); err != nil {
		return nil, err
	}
	return &checkpoint{dir: dir}, nil
}

// Restore is raft.FSM: the snapshot's files become the store (a new or lagging node).
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return f.st.Restore(func(dir string) error { return untar(rc, dir) })
}

// checkpoint is one snapshot: a Pebble checkpoint directory.
type checkpoint struct{ dir string }

// Persist writes the checkpoint as a tar of its files.
func (c *checkpoint) Persist(sink raft.SnapshotSink) error {
	if err := tarDir(c.dir, sink); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("persist snapshot: %w", err)
	}
	return sink.Close()
}

// Release removes the checkpoint directory.
func (c *checkpoint) Release() { _ = os.RemoveAll(c.dir) }

// tarDir writes the regular files of dir (Pebble checkpoints are flat) to w.
func tarDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := addFile(tw, filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return tw.Close()
}

func addFile(tw *tar.Writer, path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Name: filepath.Base(path), Mode: 0o600, Size: info.Size(), Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err = io.Copy(tw, fh)
	return err
}

// untar writes the flat tar r into dir, refusing names that would leave it.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read snapshot: %w", err)
		}
		name := filepath.Base(h.Name)
		if name != h.Name || name == "." || name == ".." || h.Typeflag != tar.TypeReg {
			return fmt.Errorf("read snapshot: unexpected entry %q", h.Name)
		}
		fh, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(fh, tr)
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write snapshot file %s: %w", name, err)
		}
	}
}
