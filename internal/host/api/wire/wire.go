// Package wire holds every JSON body of the Sous HTTP API, shared by the server
// (internal/host/api) and the Go client (internal/host/client). The server converts its store records
// to these types; nothing here is a storage type.
package wire

// ErrorBody is every error response: {"error":{"code","message","request_id"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id"`
}
