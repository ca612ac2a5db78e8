"""The Redis cache backend (used when REDIS_URL is set) against the real Redis on this machine."""

import threading
import uuid

import pytest

from config.redis_cache import RedisCache

REDIS_TEST_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def cache():
    backend = RedisCache(REDIS_TEST_URL, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    yield backend
    backend.clear()


def test_one_client_serves_every_call_and_the_cache_works(cache):
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    assert cache.add("mark", 1, timeout=30)
    assert not cache.add("mark", 2, timeout=30)  # the drain nudge's election relies on this
    assert cache.get("mark") == 1
    cache.delete("mark")
    assert cache.get("mark") is None


def test_the_shared_client_is_safe_across_threads(cache):
    def work(n: int) -> None:
        for i in range(50):
            cache.set(f"{n}:{i}", [n, i], timeout=30)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    values = cache.get_many([f"{n}:{i}" for n in range(8) for i in range(50)])
    assert len(values) == 400 and all(
        value == [int(k.split(":")[0]), int(k.split(":")[1])] for k, value in values.items()
    )
