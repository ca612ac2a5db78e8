"""Django's Redis cache, reusing one redis-py client per connection pool.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` object for every cache call. Each
API command makes three (the throttle's read and write, the drain nudge's read), and building
the client was 4% of a placement's CPU in gunicorn (docs/benchmarks.md). A redis-py client is
safe to share between threads: it takes a connection from its pool for each command.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict = {}  # connection pool -> its client

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)  # Django keeps one pool per server, for the process
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
