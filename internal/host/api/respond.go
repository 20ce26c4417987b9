package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/store"
)

type requestIDKey struct{}

var requestIDRe = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes a sane X-Request-Id from the client or makes one, puts it
// in the context and echoes it in the response header.
func withRequestID(w http.ResponseWriter, r *http.Request) *http.Request {
	id := r.Header.Get("X-Request-Id")
	if !requestIDRe.MatchString(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	w.Header().Set("X-Request-Id", id)
	return r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
}

// RequestID returns the request id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// bodyMarshaler is a response that encodes itself, for a large JSON value it carries
// (see wire.InvokeResult.MarshalBody).
type bodyMarshaler interface{ MarshalBody() ([]byte, error) }

// WriteJSON writes v as JSON with the status code.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if m, ok := v.(bodyMarshaler); ok {
		if b, err := m.MarshalBody(); err == nil {
			w.WriteHeader(status)
			_, _ = w.Write(append(b, '\n'))
			return
		}
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteError writes {"error":{"code","message","request_id"}} with the status code.
// message should say what to fix.
func WriteError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	WriteJSON(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: message, RequestID: RequestID(r.Context())}})
}

// DecodeJSON reads the body into v. On failure it writes the error (400
// invalid_json, 413 body_too_large) and returns false.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("extra data after the JSON value")
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		WriteError(w, r, http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("request body is over the %d-byte limit (http.max_body_bytes)", tooBig.Limit))
	case errors.Is(err, io.EOF):
		WriteError(w, r, http.StatusBadRequest, "invalid_json", "request body is empty; send a JSON object")
	default:
		WriteError(w, r, http.StatusBadRequest, "invalid_json", "request body is not valid JSON for this endpoint: "+err.Error())
	}
	return false
}

// StoreError maps a store error to a response: ErrNotFound 404, ErrDeleted
// 410, ErrInvalid 400, ErrConflict 409, ErrUnavailable 503 (no quorum), anything else 500 (logged, not shown).
func (s *Server) StoreError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		WriteError(w, r, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, store.ErrDeleted):
		WriteError(w, r, http.StatusGone, "function_deleted", err.Error()+"; deploy it again to bring it back")
	case errors.Is(err, store.ErrInvalid):
		WriteError(w, r, http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, store.ErrConflict):
		WriteError(w, r, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, store.ErrDiskFull):
		WriteError(w, r, http.StatusInsufficientStorage, "insufficient_storage", err.Error())
	case errors.Is(err, store.ErrUnavailable):
		WriteError(w, r, http.StatusServiceUnavailable, "no_quorum", err.Error())
	default:
		s.log.Error("store error", "path", r.URL.Path, "error", err, "request_id", RequestID(r.Context()))
		WriteError(w, r, http.StatusInternalServerError, "internal", "internal error; see the host log")
	}
}
