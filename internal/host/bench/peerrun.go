package bench

import (
	"context"
	"strconv"
)

// peerKey names the BullMQ row measured with n clients.
func peerKey(n int) string { return "c" + strconv.Itoa(n) }

// runPeer measures BullMQ on o.RedisURL: each client count with one worker process
// (and its RSS at the largest), the large input, and the worker-process counts.
func runPeer(ctx context.Context, o *Options, rep *Report) error {
	p, err := installBullMQ(o)
	if err != nil {
		return err
	}
	p.redisURL = o.RedisURL
	defer p.stopWorkers()
	if err := p.startWorkers(ctx, "bench", 1); err != nil {
		return err
	}
	for _, n := range o.Clients {
		o.say("· BullMQ: %d requests from %d clients", o.Requests, n)
		row, err := p.measure(ctx, "bench", n, o.Requests, o.Warmup, 0)
		if err != nil {
			return err
		}
		rep.Peer[peerKey(n)] = row
	}
	rep.PeerMem = meanRSS(p.workerPIDs())
	if o.BigBytes > 0 {
		o.say("· BullMQ: %d requests with a %d-byte input and output", o.BigRequests, o.BigBytes)
		if rep.Peer["big"], err = p.measure(ctx, "bench", 1, o.BigRequests, 5, o.BigBytes); err != nil {
			return err
		}
	}
	p.stopWorkers()
	if o.SousBin == "" {
		return nil
	}
	clients := o.Clients[len(o.Clients)-1]
	for _, k := range o.WorkerProcs {
		queue := "bench-w" + strconv.Itoa(k)
		if err := p.startWorkers(ctx, queue, k); err != nil {
			return err
		}
		o.say("· BullMQ: %d requests from %d clients, %d worker processes", o.Requests, clients, k)
		row, err := p.measure(ctx, queue, clients, o.Requests, o.Warmup, 0)
		p.stopWorkers()
		if err != nil {
			return err
		}
		rep.Peer[workersKey("node", k)] = row
	}
	return nil
}
