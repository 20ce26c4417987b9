// Package devwatch notices when the files of a function directory change, for
// `sous dev --watch`: it polls each directory's tree (the files a deploy would
// upload, plus sous.yaml and .sousignore) and reports a directory once its
// files have stopped changing for the debounce period, so an editor's save of
// several files, or a save in several writes, gives one report.
package devwatch

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"time"

	"github.com/sous-run/sous/internal/host/client"
)

// Options tune the polling; zero values take the defaults.
type Options struct {
	Interval time.Duration // how often each tree is stat'ed (default 250 ms)
	Debounce time.Duration // how long a tree must stay unchanged before it is reported (default 400 ms)
}

// fileState is what a poll sees of one file.
type fileState struct {
	size  int64
	mtime time.Time
}

// Watch calls changed(dir) from one goroutine each time dir's files changed
// and then stayed unchanged for the debounce period, until ctx ends. A change
// made while changed runs is reported after it returns.
func Watch(ctx context.Context, dirs []string, o Options, changed func(dir string)) {
	if o.Interval <= 0 {
		o.Interval = 250 * time.Millisecond
	}
	if o.Debounce <= 0 {
		o.Debounce = 400 * time.Millisecond
	}
	last := make(map[string]map[string]fileState, len(dirs))
	dirty := map[string]time.Time{} // dir -> when its files last changed, while unreported
	for _, d := range dirs {
		last[d] = snapshot(d)
	}
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		for _, d := range dirs {
			snap := snapshot(d)
			if !maps.Equal(snap, last[d]) {
				last[d], dirty[d] = snap, now
				continue
			}
			if at, ok := dirty[d]; ok && now.Sub(at) >= o.Debounce {
				delete(dirty, d)
				changed(d)
			}
		}
	}
}

// snapshot stats every file of dir that a deploy reads (what .sousignore
// leaves in, sous.yaml and .sousignore included). An unreadable tree is empty.
func snapshot(dir string) map[string]fileState {
	out := map[string]fileState{}
	ign, err := client.LoadIgnore(dir)
	if err != nil {
		return out
	}
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, rerr := filepath.Rel(dir, p)
		if rerr != nil || rel == "." {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if rel != client.ManifestFile && rel != client.IgnoreFile && ign.Match(rel, d.IsDir()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			out[rel] = fileState{size: info.Size(), mtime: info.ModTime()}
		}
		return nil
	})
	return out
}
