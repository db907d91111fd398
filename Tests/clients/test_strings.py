"""redis-py against weft-server: SETEX, PSETEX, GETSET, GETEX, MSETNX, GETRANGE, SUBSTR, SETRANGE, INCRBYFLOAT.

Expected values and error texts are redis-server 7.0.15's.
"""
import time

import pytest
import redis

# redis-py marks setex, psetex, getset and substr deprecated; users still call them, so these tests do too.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_setex_psetex(r):
    assert r.setex("k", 100, "v") is True
    assert r.get("k") == "v"
    assert r.ttl("k") == 100
    assert r.psetex("p", 100000, "w") is True
    assert 99000 <= r.pttl("p") <= 100000
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'setex' command$"):
        r.setex("k", 0, "v")
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'setex' command$"):
        r.setex("k", 9223372036854775, "v")
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'psetex' command$"):
        r.psetex("p", -1, "v")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("SETEX", "k", "ten", "v")
    assert r.get("k") == "v"


def test_getset(r):
    assert r.getset("g", "1") is None
    assert r.getset("g", "2") == "1"
    r.setex("t", 100, "v")
    assert r.getset("t", "w") == "v"
    assert r.ttl("t") == -1


def test_getex(r):
    r.set("e", "v")
    assert r.getex("e") == "v"
    assert r.getex("missing", ex=10) is None
    assert r.getex("e", ex=100) == "v"
    assert r.ttl("e") == 100
    assert r.getex("e", persist=True) == "v"
    assert r.ttl("e") == -1
    assert r.getex("e", px=200000) == "v"
    assert 199 <= r.ttl("e") <= 200
    at = int(time.time()) + 1000
    assert r.getex("e", exat=at) == "v"
    assert 998 <= r.ttl("e") <= 1000
    assert r.getex("e", pxat=at * 1000) == "v"
    with pytest.raises(redis.ResponseError, match="^invalid expire time in 'getex' command$"):
        r.execute_command("GETEX", "e", "EX", "0")
    with pytest.raises(redis.ResponseError, match="^syntax error$"):
        r.execute_command("GETEX", "e", "EX", "10", "PERSIST")
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("GETEX", "e", "PX", "soon")
    # An absolute time in the past answers the value and deletes the key.
    assert r.getex("e", exat=1) == "v"
    assert r.exists("e") == 0


def test_msetnx(r):
    assert r.msetnx({"a": "1", "b": "2"}) is True
    assert r.msetnx({"a": "9", "c": "3"}) is False
    assert r.mget("a", "b", "c") == ["1", "2", None]
    with pytest.raises(redis.ResponseError, match="^wrong number of arguments for 'msetnx' command$"):
        r.execute_command("MSETNX", "a", "1", "b")


def test_getrange_substr(r):
    r.set("s", "This is a string")
    assert r.getrange("s", 0, 3) == "This"
    assert r.getrange("s", -3, -1) == "ing"
    assert r.getrange("s", 0, -1) == "This is a string"
    assert r.getrange("s", 10, 100) == "string"
    assert r.getrange("s", -1, -5) == ""
    assert r.getrange("s", -100, -99) == "T"
    assert r.getrange("s", 0, -100) == "T"
    assert r.getrange("missing", 0, -1) == ""
    assert r.substr("s", 5, 6) == "is"
    with pytest.raises(redis.ResponseError, match="^value is not an integer or out of range$"):
        r.execute_command("GETRANGE", "s", "a", "1")


def test_setrange(r):
    assert r.setrange("r", 5, "hello") == 10
    assert r.get("r") == "\x00" * 5 + "hello"
    assert r.setrange("r", 0, "HE") == 10
    assert r.get("r") == "HE\x00\x00\x00hello"
    assert r.setrange("none", 10, "") == 0
    assert r.exists("none") == 0
    with pytest.raises(redis.ResponseError, match="^offset is out of range$"):
        r.setrange("r", -1, "x")
    with pytest.raises(redis.ResponseError, match=r"^string exceeds maximum allowed size \(proto-max-bulk-len\)$"):
        r.setrange("r", 536870912, "x")
    r.setex("t", 100, "abc")
    assert r.setrange("t", 1, "X") == 3
    assert r.get("t") == "aXc"
    assert r.ttl("t") == 100


@pytest.mark.parametrize(
    "stored, increment, expected",
    [
        ("10.5", "0.1", "10.6"),
        ("5.0e3", "2.0e2", "5200"),
        ("3", "1.1", "4.1"),
        (None, "1", "1"),
        ("10.6", "-5.0e3", "-4989.39999999999999991"),
        ("0.1", "0.2", "0.3"),
        ("1", "-1", "0"),
        (None, "-0", "0"),
        ("-0", "0", "0"),
        (None, "1e-17", "0.00000000000000001"),
        (None, "1e-18", "0"),
        (None, "1e30", "1000000000000000000024696061952"),
        (None, "3.14159265358979323846264338327950288", "3.14159265358979324"),
        ("2.718281828459045", "2.718281828459045", "5.43656365691809"),
        (None, "0x1.8p1", "3"),
        (None, "+1.5", "1.5"),
        (None, ".5", "0.5"),
        ("9223372036854775807", "0.5", "9223372036854775807.5"),
        ("123456789012345678901234567890", "0", "123456789012345678899921813504"),
        ("1000000", "0.000001", "1000000.00000099999999748"),
        ("1e17", "0.5", "100000000000000000.5"),
    ],
)
def test_incrbyfloat(r, stored, increment, expected):
    if stored is not None:
        r.set("f", stored)
    # redis-py turns the reply into a float; the stored string is the exact reply text.
    assert r.incrbyfloat("f", increment) == float(expected)
    assert r.get("f") == expected


@pytest.mark.parametrize(
    "stored, increment, message",
    [
        (None, "abc", "value is not a valid float"),
        (None, " 1", "value is not a valid float"),
        (None, "1e5000", "value is not a valid float"),
        (None, "nan", "value is not a valid float"),
        ("hello", "1", "value is not a valid float"),
        (None, "inf", "increment would produce NaN or Infinity"),
        ("1e4932", "1e4932", "increment would produce NaN or Infinity"),
    ],
)
def test_incrbyfloat_errors(r, stored, increment, message):
    if stored is not None:
        r.set("f", stored)
    with pytest.raises(redis.ResponseError, match="^" + message + "$"):
        r.incrbyfloat("f", increment)
    assert r.get("f") == stored


def test_incrbyfloat_keeps_ttl_and_big_numbers(r):
    r.setex("t", 100, "1.5")
    assert r.incrbyfloat("t", 1) == 2.5
    assert r.ttl("t") == 100
    r.incrbyfloat("big", "1e4932")
    text = r.get("big")
    assert len(text) == 4933
    assert text.startswith("1000000000000000000006018949387963891323")


def test_inside_pipeline_transaction(r):
    with r.pipeline(transaction=True) as p:
        p.setex("a", 100, "1")
        p.msetnx({"b": "2", "c": "3"})
        p.incrbyfloat("b", "0.5")
        p.setrange("c", 2, "x")
        p.getrange("c", 0, -1)
        p.getex("a", persist=True)
        assert p.execute() == [True, True, 2.5, 3, "3\x00x", "1"]
    assert r.ttl("a") == -1
