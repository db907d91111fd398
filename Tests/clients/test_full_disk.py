"""A full disk under the commit log: writes get -MISCONF, reads go on, nothing acknowledged is lost, and the server
recovers once the disk has room again.

The disk is a small tmpfs mounted for the test (root only; skipped elsewhere). A filler file takes most of it, so
that deleting the filler gives the log room again.
"""
import os
import subprocess
import threading
import time

import pytest
import redis

from weft_process import servers  # noqa: F401 (fixture)


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                            capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def fill(path, size):
    with open(path, "wb") as f:
        f.write(b"\0" * size)


def write_until_refused(c, prefix, limit=2000, pause=0.0):
    """SETs incompressible 16 KiB values until one is refused with MISCONF; returns the acknowledged ones."""
    acknowledged = {}
    for i in range(limit):
        key = f"{prefix}:{i}"
        value = os.urandom(16 * 1024)
        try:
            c.set(key, value)
        except redis.ResponseError as error:
            assert str(error) == "MISCONF Errors writing to the AOF file: No space left on device", str(error)
            return acknowledged
        acknowledged[key] = value
        if pause:
            time.sleep(pause)
    pytest.fail(f"no MISCONF after {limit} writes")


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_full_disk_refuses_writes_keeps_reads_and_recovers(servers, small_disk):  # noqa: F811
    filler = small_disk / "filler"
    fill(filler, 3 * 1024 * 1024)
    server = servers.start(data_dir=small_disk, appendfsync="everysec")
    c = server.client()
    # everysec: writes are acknowledged at once; the flusher's failing write (within a second) turns them away.
    acknowledged = write_until_refused(c, "k", pause=0.005)
    assert len(acknowledged) > 0
    persistence = c.info("persistence")
    assert persistence["aof_last_write_status"] == "err"
    # Reads go on; PING is refused like a write, as in Redis.
    some_key = next(iter(acknowledged))
    assert c.get(some_key) == acknowledged[some_key]
    assert c.dbsize() == len(acknowledged)
    with pytest.raises(redis.ResponseError, match="MISCONF"):
        c.ping()
    # A MULTI with a write is refused when queued; EXEC then answers EXECABORT.
    pipe = c.pipeline(transaction=True)
    pipe.set("in-multi", "1")
    with pytest.raises((redis.ResponseError, redis.exceptions.ExecAbortError)):
        pipe.execute()

    # Room again: the writer retries, the status goes back to ok, writes are accepted.
    filler.unlink()
    assert wait_for(lambda: c.info("persistence")["aof_last_write_status"] == "ok"), "the log did not recover"
    c.set("after", "1")
    acknowledged["after"] = b"1"

    # Every acknowledged write is on disk: a restart has them all.
    server.stop()
    server.start()
    c = server.client()
    assert c.dbsize() == len(acknowledged)
    for key, value in acknowledged.items():
        assert c.get(key) == value, key


def test_full_disk_under_always_holds_replies_until_written(servers, small_disk):  # noqa: F811
    filler = small_disk / "filler"
    fill(filler, 3 * 1024 * 1024)
    server = servers.start(data_dir=small_disk, appendfsync="always")
    c = server.client(socket_timeout=30)
    value = os.urandom(16 * 1024)
    written = 0
    replies = []

    def writer():
        # Under always a write whose record cannot be written waits for its reply.
        nonlocal written
        for i in range(150):
            c.set(f"k:{i}", value)
            written = i + 1
        replies.append("done")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    other = server.client()
    assert wait_for(lambda: other.info("persistence")["aof_last_write_status"] == "err", timeout=20)
    stalled = written
    time.sleep(0.5)
    assert written == stalled, "a write was acknowledged although its record could not be written"
    assert thread.is_alive()
    filler.unlink()
    thread.join(timeout=30)
    assert replies == ["done"]
    server.kill()
    server.start()
    assert server.client().dbsize() == 150
