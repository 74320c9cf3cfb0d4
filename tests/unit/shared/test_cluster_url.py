"""``redis+cluster://`` URLs (shared/infra.py): what create_redis makes of them, and bad ones refused."""

from __future__ import annotations

import pytest
from redis.asyncio.cluster import RedisCluster

from shared.infra import ClusterClient, cluster_seeds, create_redis, is_cluster, is_cluster_url


def test_seeds_credentials_and_tls_are_read():
    assert cluster_seeds("redis+cluster://u%40x:p%3Aw@10.0.0.1:7000,10.0.0.2:7001/0") == (
        [("10.0.0.1", 7000), ("10.0.0.2", 7001)], "u@x", "p:w", False)
    assert cluster_seeds("rediss+cluster://[::1]:7000") == ([("::1", 7000)], None, None, True)


@pytest.mark.parametrize("url", ["redis+cluster://h1:7000,h2", "redis+cluster://h1:port", "redis://h:1/0"])
def test_bad_cluster_urls_are_refused(url):
    with pytest.raises(ValueError):
        cluster_seeds(url)


def test_only_cluster_schemes_make_a_cluster_client():
    assert is_cluster_url("redis+cluster://h:1") and not is_cluster_url("redis://h:1/0")
    single = create_redis("redis://127.0.0.1:1/0")
    assert not is_cluster(single)
    cluster = create_redis("redis+cluster://127.0.0.1:1,127.0.0.1:2", max_connections=7)
    assert isinstance(cluster, ClusterClient) and isinstance(cluster, RedisCluster) and is_cluster(cluster)
    assert cluster.faces_node_options["max_connections"] == 7  # no I/O yet: nothing listens on those ports
