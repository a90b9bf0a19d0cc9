"""The memo store on Valkey: a batch's memos of several shops are saved with their TTL
under keys of their shop's hash tag, and load back, absent ones left out."""

import orjson
import pytest
from redis.asyncio import Redis

from services.analytics.ingest.memos import MemoStore, redis_key
from services.core.embedded import EmbeddedRedis, free_port


@pytest.fixture
def redis_url(tmp_path):
    server = EmbeddedRedis(port=free_port(), data_dir=tmp_path)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


async def test_memos_of_several_shops_load_back_as_saved_with_their_ttl(redis_url):
    redis = Redis.from_url(redis_url)
    try:
        memos = MemoStore(redis, ttl_seconds=600, generation="g1")
        saved = {("s1", "conversation", "c1"): orjson.dumps({"answered": True}),
                 ("s2", "order", "o1"): orjson.dumps({"items": ["i1"]}),
                 ("s1", "case", "k1"): orjson.dumps({"clocks": {}})}
        await memos.save(saved)
        absent = ("s2", "conversation", "c9")
        loaded = await memos.load([*saved, absent])
        assert loaded == {key: orjson.loads(value) for key, value in saved.items()}
        key = redis_key(("s2", "order", "o1"), "g1")
        assert key.startswith("kefu:{s2}:") and 0 < await redis.ttl(key) <= 600
    finally:
        await redis.aclose()
