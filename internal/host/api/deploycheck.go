package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/sous-run/sous/internal/host/codecheck"
	"github.com/sous-run/sous/internal/host/store"
)

// SourceCheck parses a bundle's source and resolves its imports before it is
// stored: a *codecheck.Error refuses the deploy (422 syntax_error or
// import_error, with file:line:column); any other
// error is logged and the deploy goes ahead (a broken checker must not block deploys).
type SourceCheck func(ctx context.Context, runtime, entry string, files map[string][]byte) error

// SetSourceCheck installs the deploy-time syntax check (nil = none).
func (s *Server) SetSourceCheck(c SourceCheck) {
	if c == nil {
		s.check.Store(nil)
		return
	}
	s.check.Store(&c)
}

// checkSource runs the installed SourceCheck on b.
func (s *Server) checkSource(ctx context.Context, name string, b *store.Bundle) *apiError {
	c := s.check.Load()
	if c == nil {
		return nil
	}
	err := (*c)(ctx, b.Runtime, b.Entry, b.Files)
	var perr *codecheck.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &perr) && perr.Kind == codecheck.KindImport:
		return &apiError{http.StatusUnprocessableEntity, "import_error",
			fmt.Sprintf("%s has an import that does not resolve: %s (nothing was deployed; fix the import, or bundle the module, and deploy again)", name, perr)}
	case errors.As(err, &perr):
		return &apiError{http.StatusUnprocessableEntity, "syntax_error",
			fmt.Sprintf("%s does not parse: %s (nothing was deployed; fix the file and deploy again)", name, perr)}
	default:
		s.log.Warn("deploy syntax check failed; deploying unchecked", "function", name, "error", err)
		return nil
	}
}
