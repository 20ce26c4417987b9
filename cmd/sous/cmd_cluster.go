package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sous-run/sous/internal/host/cluster"
)

func init() {
	register(&command{name: "cluster", section: "client", run: runCluster,
		usage: "status | join ID RAFT_ADDR [API_URL] | remove ID | snapshot | certs DIR ID...  operate a cluster of control nodes"})
}

func runCluster(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: sous cluster status | join ID RAFT_ADDR [API_URL] | remove ID | snapshot | certs DIR ID...", errUsage)
	}
	sub, rest := args[0], args[1:]
	if sub == "certs" {
		return clusterCerts(rest)
	}
	fs := flag.NewFlagSet("cluster "+sub, flag.ContinueOnError)
	var min, max int
	switch sub {
	case "status", "snapshot":
	case "join":
		min, max = 2, 3
	case "remove":
		min, max = 1, 1
	default:
		return fmt.Errorf("%w: unknown `sous cluster %s`; use status, join, remove, snapshot or certs", errUsage, sub)
	}
	cl, err := startCall(fs, rest, min, max)
	if err != nil {
		return err
	}
	defer cl.cancel()
	var out any
	switch sub {
	case "status":
		var st cluster.Status
		if err := cl.c.Do(cl.ctx, "GET", cluster.StatusPath, nil, &st); err != nil {
			return err
		}
		if !cl.json() {
			return printClusterStatus(&st)
		}
		out = st
	case "join":
		req := cluster.JoinRequest{NodeID: cl.args[0], RaftAddr: cl.args[1]}
		if len(cl.args) > 2 {
			req.API = cl.args[2]
		}
		err = cl.c.Do(cl.ctx, "POST", cluster.JoinPath, req, &out)
	case "remove":
		err = cl.c.Do(cl.ctx, "DELETE", cluster.NodesPath+cl.args[0], nil, &out)
	case "snapshot":
		err = cl.c.Do(cl.ctx, "POST", cluster.SnapshotPath, nil, &out)
	}
	if err != nil {
		return err
	}
	return printJSON(out)
}

func printClusterStatus(st *cluster.Status) error {
	fmt.Printf("node %s: %s (raft %s, term %d, applied %d of %d)\n", st.NodeID, st.Role, st.State, st.Term, st.AppliedIndex, st.LastIndex)
	rows := [][]string{{"ID", "RAFT", "API", "SUFFRAGE", ""}}
	for _, s := range st.Servers {
		mark := ""
		if s.ID == st.LeaderID {
			mark = "leader"
		}
		rows = append(rows, []string{s.ID, s.RaftAddr, s.API, s.Suffrage, mark})
	}
	return table(os.Stdout, rows)
}

// clusterCerts writes the cluster CA (once) and a certificate per node id.
func clusterCerts(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("%w: sous cluster certs DIR ID... (makes DIR/ca.pem once, then DIR/ID.pem and DIR/ID-key.pem)", errUsage)
	}
	if err := cluster.WriteCerts(args[0], args[1:]...); err != nil {
		return err
	}
	for _, id := range args[1:] {
		fmt.Printf("%s: cert_file %s, key_file %s\n", id, filepath.Join(args[0], id+".pem"), filepath.Join(args[0], id+"-key.pem"))
	}
	fmt.Printf("ca_file %s (keep ca-key.pem private: it admits nodes)\n", filepath.Join(args[0], "ca.pem"))
	return nil
}
