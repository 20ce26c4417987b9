package bench

import (
	"context"
	"strconv"
)

// bigWarmup is the round trips before a 1 MiB row's, on either side.
const bigWarmup = 5

// peerKey names the BullMQ row measured with n clients.
func peerKey(n int) string { return "c" + strconv.Itoa(n) }

// runPeer measures BullMQ on o.RedisURL: each client count with one worker process
// (and its RSS at the largest) and the large input. It returns the peer with that
// worker still running, for the rows measured beside Sous's (besidePeer,
// besideWorkers); the caller stops it.
func runPeer(ctx context.Context, o *Options, rep *Report) (*peer, error) {
	p, err := installBullMQ(o)
	if err != nil {
		return nil, err
	}
	p.redisURL = o.RedisURL
	if err := measurePeer(ctx, o, p, rep); err != nil {
		p.stopWorkers()
		return nil, err
	}
	return p, nil
}

// measurePeer is runPeer's measurements; it leaves one worker running on "bench".
func measurePeer(ctx context.Context, o *Options, p *peer, rep *Report) error {
	if err := p.startWorkers(ctx, "bench", 1); err != nil {
		return err
	}
	if err := firstRows(ctx, o, p, rep.Peer); err != nil {
		return err
	}
	rep.PeerMem = meanRSS(p.workerPIDs())
	if o.BigBytes > 0 {
		o.say("· BullMQ: %d requests with a %d-byte input and output", o.BigRequests, o.BigBytes)
		row, err := p.measure(ctx, "bench", 1, o.BigRequests, bigWarmup, o.BigBytes)
		if err != nil {
			return err
		}
		rep.Peer["big"] = row
	}
	return nil
}

// firstRows measures p's first rows on queue "bench", one per client count, into rows
// (by peerKey).
func firstRows(ctx context.Context, o *Options, p *peer, rows map[string]Row) error {
	for _, n := range o.Clients {
		o.say("· %s: %d requests from %d clients", p.label, o.Requests, n)
		row, err := p.measure(ctx, "bench", n, o.Requests, o.steadyWarmup(), 0)
		if err != nil {
			return err
		}
		rows[peerKey(n)] = row
	}
	return nil
}

// besideWorkers measures BullMQ with k worker processes (on a queue of their own) just
// before Sous's row with k worker processes, then starts the one worker of the other
// rows again. Nil as besidePeer is.
func besideWorkers(ctx context.Context, o *Options, p *peer, k, clients int) *Row {
	if p == nil {
		return nil
	}
	p.stopWorkers()
	defer func() {
		if err := p.startWorkers(ctx, "bench", 1); err != nil {
			o.say("· BullMQ worker not started again: %v", err)
		}
	}()
	queue := "bench-w" + strconv.Itoa(k)
	defer p.stopWorkers()
	if err := p.startWorkers(ctx, queue, k); err != nil {
		o.say("· BullMQ beside the next row failed: %v", err)
		return nil
	}
	return measureBeside(ctx, o, p, queue, clients, o.Requests, o.steadyWarmup(), 0)
}

// besidePeer measures BullMQ just before a Sous row, as measurePeer did for the
// peer's first rows (n clients, total round trips after warmup, an input of
// inputBytes): nil without the peer, or when this measurement failed (the row's
// ratios then fall back to the peer's first rows, and the progress says why).
func besidePeer(ctx context.Context, o *Options, p *peer, n, total, warmup, inputBytes int) *Row {
	if p == nil {
		return nil
	}
	return measureBeside(ctx, o, p, "bench", n, total, warmup, inputBytes)
}

// measureBeside is one BullMQ measurement on queue for the row that follows it; nil
// when it failed.
func measureBeside(ctx context.Context, o *Options, p *peer, queue string, n, total, warmup, inputBytes int) *Row {
	o.say("· %s beside the next row: %d requests from %d clients, queue %s", p.label, total, n, queue)
	row, err := p.measure(ctx, queue, n, total, warmup, inputBytes)
	if err != nil {
		o.say("· %s beside the next row failed: %v", p.label, err)
		return nil
	}
	return &row
}
