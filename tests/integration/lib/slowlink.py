"""slowlink.py — a slow, lossy link between a client and a relay, as a TCP proxy
on 127.0.0.1: each direction paced at RATE bits/s and delayed by DELAY ms (the
round trip is twice that), with LOSS: the chance that a 1,460-byte segment is
lost, which on TCP shows as a stall of the segment (and all behind it) for a
retransmission timeout. A proxy sees a stream, not packets, so a loss is played
as that stall (RTO: the round trip plus 200 ms, the kernel's minimum), not as a
dropped packet: use a network namespace with `tc netem` where the kernel has it.

Writes its port to --port-file once listening, and the bytes carried each way
to --stats-file ("up DOWN" on one line, rewritten every 0.2 s and at exit).
Runs until SIGTERM, or --max-seconds. The random losses come from --seed.

Usage: python3 slowlink.py --to 127.0.0.1:PORT --port-file F --stats-file F
                           [--rate 1000000] [--delay-ms 150] [--loss 0.01]
"""
import argparse
import asyncio
import os
import random
import signal
import sys
import time

SEGMENT = 1460


class Direction:
    """One direction of one connection: bytes leave at the link's rate, arrive
    delay later, in order."""

    def __init__(self, args, rng, counter, index):
        self.rate, self.delay, self.loss = args.rate, args.delay_ms / 1000.0, args.loss
        self.rto = 2 * self.delay + 0.2
        self.rng, self.counter, self.index = rng, counter, index
        self.free_at = 0.0  # when the link is free to send the next byte
        self.queue = asyncio.Queue()

    def schedule(self, data):
        now = time.monotonic()
        start = max(now, self.free_at)
        done = start + len(data) * 8.0 / self.rate
        segments = (len(data) + SEGMENT - 1) // SEGMENT
        lost = sum(1 for _ in range(segments) if self.rng.random() < self.loss)
        done += lost * self.rto  # a lost segment holds up the stream behind it
        self.free_at = done
        self.queue.put_nowait((done + self.delay, data))

    async def pump(self, reader, writer):
        async def read():
            while True:
                data = await reader.read(65536)
                if not data:
                    self.queue.put_nowait((None, None))
                    return
                self.counter[self.index] += len(data)
                self.schedule(data)

        async def write():
            while True:
                at, data = await self.queue.get()
                if data is None:
                    break
                wait = at - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
            try:
                writer.write_eof()
            except (OSError, RuntimeError):
                pass

        await asyncio.gather(read(), write(), return_exceptions=True)


async def main(args):
    host, port = args.to.rsplit(":", 1)
    rng = random.Random(args.seed)
    counter = [0, 0]  # bytes client -> relay, relay -> client

    async def on_client(creader, cwriter):
        try:
            rreader, rwriter = await asyncio.open_connection(host, int(port))
        except OSError:
            cwriter.close()
            return
        up = Direction(args, rng, counter, 0)
        down = Direction(args, rng, counter, 1)
        await asyncio.gather(up.pump(creader, rwriter), down.pump(rreader, cwriter),
                             return_exceptions=True)
        for w in (cwriter, rwriter):
            w.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.sockets[0].getsockname()[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    end = time.monotonic() + args.max_seconds

    def stats():
        with open(args.stats_file + ".tmp", "w") as f:
            f.write("%d %d\n" % (counter[0], counter[1]))
        os.rename(args.stats_file + ".tmp", args.stats_file)

    while not stop.is_set() and time.monotonic() < end:
        stats()
        try:
            await asyncio.wait_for(stop.wait(), 0.2)
        except asyncio.TimeoutError:
            pass
    server.close()
    stats()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--to", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--stats-file", required=True)
    ap.add_argument("--rate", type=float, default=1e6)
    ap.add_argument("--delay-ms", type=float, default=150)
    ap.add_argument("--loss", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=600)
    sys.exit(asyncio.run(main(ap.parse_args())))
