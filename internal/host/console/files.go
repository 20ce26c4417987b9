package console

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/sous-run/sous/internal/host/api"
	"github.com/sous-run/sous/internal/host/api/wire"
)

// File is one source file of a version as the console shows it.
type File struct {
	Path   string `json:"path"`
	Text   string `json:"text,omitempty"` // empty for binary files
	Size   int    `json:"size"`
	Binary bool   `json:"binary,omitempty"`
}

// maxShownBytes caps the text of one file sent to the browser.
const maxShownBytes = 256 << 10

// files: GET /console/api/functions/{name}/versions/{version}/files (read scope):
// the version's files, read-only, from the caller's own tenant.
func files(s *api.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tenant := api.Principal(r.Context()).Tenant
		n, err := strconv.Atoi(r.PathValue("version"))
		if err != nil || n < 1 {
			api.WriteError(w, r, http.StatusBadRequest, "invalid_version", "version must be a number >= 1, got "+strconv.Quote(r.PathValue("version")))
			return
		}
		v, err := s.Store().GetVersion(tenant, r.PathValue("name"), n)
		if err != nil {
			s.StoreError(w, r, err)
			return
		}
		b, err := s.Store().GetBundle(tenant, v.Digest)
		if err != nil {
			s.StoreError(w, r, err)
			return
		}
		out := struct {
			Version *wire.Version `json:"version"`
			Files   []File        `json:"files"`
		}{Version: api.VersionView(v), Files: []File{}}
		for _, p := range slices.Sorted(maps.Keys(b.Files)) {
			data := b.Files[p]
			f := File{Path: p, Size: len(data)}
			switch {
			case !utf8.Valid(data):
				f.Binary = true
			case len(data) > maxShownBytes:
				f.Text = string(data[:maxShownBytes]) + "\n… (cut at 256 KiB)"
			default:
				f.Text = string(data)
			}
			out.Files = append(out.Files, f)
		}
		api.WriteJSON(w, http.StatusOK, out)
	}
}
