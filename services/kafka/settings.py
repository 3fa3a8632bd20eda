"""Where the broker is and which topic carries the events; creating the topic; waiting for a
condition (relay, workers and their tests share these). May import: the standard library,
kafka-python and ``services.kafka.envelope``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from services.kafka.envelope import DEFAULT_BOOTSTRAP, DEFAULT_TOPIC

log = logging.getLogger(__name__)


@dataclass
class KafkaSettings:
    bootstrap: str = DEFAULT_BOOTSTRAP
    topic: str = DEFAULT_TOPIC
    partitions: int = 8


def ensure_topic(kafka: KafkaSettings) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap, client_id="ducha-admin")
    try:
        if kafka.topic not in admin.list_topics():
            admin.create_topics([NewTopic(kafka.topic, kafka.partitions, 1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def wait_for(check: Callable[[], bool], timeout: float, every: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return check()
