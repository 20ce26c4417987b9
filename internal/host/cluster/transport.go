package cluster

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/hashicorp/raft"
)

// TLSConfig is the mutual TLS of the raft transport: this node presents certFile/keyFile
// and accepts only peers whose certificate the cluster's CA (caFile) signed, both ways.
// Names are not checked (a node is known by its raft address); the shared CA is the trust.
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("cluster.tls.ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("cluster.tls.ca_file %s: no PEM certificate in it", caFile)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("cluster.tls.cert_file/key_file: %w", err)
	}
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("cluster transport: peer sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			return fmt.Errorf("cluster transport: peer is not a member (certificate not signed by the cluster CA): %w", err)
		}
		return nil
	}
	return &tls.Config{
		Certificates:       []tls.Certificate{cert},
		ClientAuth:         tls.RequireAnyClientCert, // verified by VerifyConnection against the CA
		InsecureSkipVerify: true,                     // likewise: chain checked, names not
		VerifyConnection:   verify,
		MinVersion:         tls.VersionTLS13,
	}, nil
}

// tlsStream is raft's StreamLayer over mutual TLS. The handshake runs on the first read,
// in the transport's per-connection goroutine, so a slow or foreign peer holds up no one;
// a peer without a certificate of the cluster's CA fails it and is dropped.
type tlsStream struct {
	net.Listener
	conf *tls.Config
}

func listenTLS(addr string, conf *tls.Config) (*tlsStream, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cluster.raft_addr %s: %w", addr, err)
	}
	return &tlsStream{Listener: tls.NewListener(ln, conf), conf: conf}, nil
}

// Dial is raft.StreamLayer.
func (s *tlsStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	c, err := tls.DialWithDialer(d, "tcp", string(addr), s.conf)
	if err != nil {
		return nil, fmt.Errorf("dial raft peer %s: %w", addr, err)
	}
	return c, nil
}

// Addr is the advertised address: the listener's (a port 0 resolved).
func (s *tlsStream) Addr() net.Addr { return s.Listener.Addr() }
