"""The distributed bus: Kafka (kafka-python) between the stores and the consumers. May import: its
own modules (which import kafka-python, ``eventsourcing.persistence``, ``projections.runner``,
``services.bootstrap``'s platform and ``services.views``' time format; each says what).

``relay`` publishes every office's notification log to one topic (key = office), ``worker``
applies it through the same ``Runner`` as the embedded pump, ``envelope`` is the message,
``settings`` where the broker is, and ``broker`` starts a local Kafka-protocol broker (Tansu)
for tests and ``make up``. The event stores stay the truth: Kafka only carries.
"""

from services.kafka.envelope import (
    DEFAULT_BOOTSTRAP as DEFAULT_BOOTSTRAP,
)
from services.kafka.envelope import (
    DEFAULT_TOPIC as DEFAULT_TOPIC,
)
from services.kafka.envelope import (
    ENVELOPE_VERSION as ENVELOPE_VERSION,
)
from services.kafka.envelope import (
    RELAY_CONSUMER as RELAY_CONSUMER,
)
from services.kafka.envelope import EnvelopeError as EnvelopeError
from services.kafka.envelope import decode as decode
from services.kafka.envelope import encode as encode
from services.kafka.envelope import envelope as envelope
from services.kafka.relay import KafkaRelay as KafkaRelay
from services.kafka.settings import KafkaSettings as KafkaSettings
from services.kafka.settings import ensure_topic as ensure_topic
from services.kafka.settings import wait_for as wait_for
from services.kafka.worker import Worker as Worker
