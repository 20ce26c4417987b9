// Package wire holds Sous's codeQ-compatible protocol definitions (workerpb, producerpb)
// and their generated Go code. Regenerate with `go generate ./internal/plugins/messaging-codeq/wire`.
package wire

//go:generate protoc -I . --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative workerpb/workerpb.proto producerpb/producerpb.proto
