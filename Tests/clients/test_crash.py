"""Kill weft-server at a random moment under `appendfsync always`: after the restart every acknowledged write is
there and no MULTI/EXEC is half applied (sled `tests/test_crash_recovery.rs`).

3 rounds by default; `WEFT_CRASH_LONG=1` runs 30. `WEFT_CRASH_SEED` replays a run's kill times.
"""
import os
import random
import threading
import time

import redis

from weft_process import client, servers  # noqa: F401 (servers is a fixture)

THREADS = 8
ACCOUNTS = 20
ROUNDS = 30 if os.environ.get("WEFT_CRASH_LONG") == "1" else 3
PREFILL = 30_000  # keys the compaction variant starts with


class Worker(threading.Thread):
    """Loops SET t<thread>:<n> <n>, then a transfer between two accounts in MULTI/EXEC that also counts itself in
    xfers:<thread>, until its connection breaks. Remembers what was acknowledged."""

    def __init__(self, port, thread, first, seed):
        super().__init__(daemon=True)
        self.port = port
        self.thread = thread
        self.n = first
        self.random = random.Random(seed)
        self.acknowledged_sets = []
        self.acknowledged_transfers = 0
        self.unexpected = None

    def run(self):
        c = client(self.port)
        try:
            while True:
                key = f"t{self.thread}:{self.n}"
                assert c.set(key, self.n) is True
                self.acknowledged_sets.append(self.n)
                self.n += 1
                a, b = self.random.sample(range(ACCOUNTS), 2)
                x = self.random.randint(1, 100)
                tx = c.pipeline(transaction=True)
                tx.incrby(f"acct:{a}", -x).incrby(f"acct:{b}", x).incr(f"xfers:{self.thread}")
                tx.execute()
                self.acknowledged_transfers += 1
        except (redis.ConnectionError, redis.TimeoutError):
            pass  # the server was killed
        except Exception as error:  # reported by the test
            self.unexpected = error
        finally:
            c.close()


def crash_rounds(s, rng, where_prefix, rewrite=False, prefill=0):
    """ROUNDS times: run the workers, kill the server at a random moment (with `rewrite`, after a BGREWRITEAOF at
    another random moment), restart it, check. `prefill` keys `prefill:<i>` = i were there before."""
    acknowledged = {thread: [] for thread in range(THREADS)}
    transfers = {thread: 0 for thread in range(THREADS)}
    next_n = {thread: 0 for thread in range(THREADS)}

    for round_number in range(ROUNDS):
        where = f"{where_prefix}, round {round_number}"
        workers = [Worker(s.port, t, next_n[t], rng.random()) for t in range(THREADS)]
        for w in workers:
            w.start()
        if rewrite:
            # Mostly while the checkpoint is written or its segments are removed (about 0.1 s for 30,000 keys in
            # a debug build).
            time.sleep(rng.uniform(0.1, 0.5))
            with s.client() as c:
                c.bgrewriteaof()
            time.sleep(rng.uniform(0.0, 0.3))
        else:
            time.sleep(rng.uniform(0.2, 1.0))
        s.kill()
        for w in workers:
            w.join(timeout=30)
            assert not w.is_alive(), f"{where}: a client hung after the kill"
            assert w.unexpected is None, f"{where}: {w.unexpected!r}"
            acknowledged[w.thread] += w.acknowledged_sets
            transfers[w.thread] += w.acknowledged_transfers
            next_n[w.thread] = w.n + 1  # w.n may have been applied without its reply

        s.start()
        with s.client() as c:
            for thread in range(THREADS):
                keys = [f"t{thread}:{n}" for n in acknowledged[thread]]
                for start in range(0, len(keys), 1000):
                    chunk = keys[start:start + 1000]
                    values = c.mget(chunk)
                    for key, value in zip(chunk, values):
                        assert value == key.split(":")[1].encode(), f"{where}: acknowledged {key} is {value!r}"
                done = int(c.get(f"xfers:{thread}") or 0)
                # Every acknowledged transfer is there, and at most one more: the one in flight at the kill.
                assert transfers[thread] <= done <= transfers[thread] + 1, (
                    f"{where}: thread {thread} had {transfers[thread]} transfers acknowledged, {done} applied")
            balances = [int(v or 0) for v in c.mget([f"acct:{a}" for a in range(ACCOUNTS)])]
            assert sum(balances) == 0, f"{where}: a transfer was half applied: {balances}"
            # Later rounds count from what survived.
            for thread in range(THREADS):
                transfers[thread] = int(c.get(f"xfers:{thread}") or 0)
            total = sum(len(v) for v in acknowledged.values())
            assert total > 0, f"{where}: no write was acknowledged before the kill"
            # Nothing beyond what was sent: each thread has at most one unacknowledged SET per round.
            extra = c.dbsize() - total - ACCOUNTS - THREADS - prefill
            assert extra <= THREADS * (round_number + 1), f"{where}: {extra} keys nobody acknowledged"
            sample = range(0, prefill, 997)
            assert c.mget([f"prefill:{i}" for i in sample]) == [str(i).encode() for i in sample], where


def test_kill_at_random_moments_loses_no_acknowledged_write(servers):
    seed = int(os.environ.get("WEFT_CRASH_SEED", time.time_ns() % 1_000_000))
    s = servers.start(appendfsync="always")
    crash_rounds(s, random.Random(seed), f"seed {seed}")


def test_kill_during_compaction_loses_no_acknowledged_write(servers):
    """The same, with a BGREWRITEAOF (checkpoint, then removal of covered segments) at a random moment before each
    kill, over a keyspace big enough that the checkpoint takes a while."""
    seed = int(os.environ.get("WEFT_CRASH_SEED", time.time_ns() % 1_000_000))
    s = servers.start(appendfsync="always")
    with s.client() as c:
        for start in range(0, PREFILL, 500):  # MSET's time grows faster than its key count: small ones
            c.mset({f"prefill:{i}": i for i in range(start, start + 500)})
    crash_rounds(s, random.Random(seed), f"seed {seed}, with compaction", rewrite=True, prefill=PREFILL)
    with s.client() as c:
        assert c.info("persistence")["aof_rewrite_in_progress"] == 0
