package cluster

import "github.com/hashicorp/raft"

func raftID(id string) raft.ServerID       { return raft.ServerID(id) }
func raftAddr(a string) raft.ServerAddress { return raft.ServerAddress(a) }
