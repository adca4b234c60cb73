"""Record every bus message to a rosbag2 MCAP file that ``ros2 bag`` and Foxglove open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sanqin.msgs.factory import RosbagsFactory
from sanqin.runtime.errors import RuntimeLayerError


class BagRecorder:
    """A bus recorder writing CDR messages (stamped with sim time) into ``path`` (a new bag folder)."""

    def __init__(self, path: str | Path, factory: RosbagsFactory, exclude: tuple[str, ...] = ()) -> None:
        from rosbags.rosbag2 import StoragePlugin, Writer

        self.path = Path(path)
        self.factory = factory
        self.exclude = set(exclude)
        try:
            self._writer = Writer(self.path, version=9, storage_plugin=StoragePlugin.MCAP)
            self._writer.open()
        except Exception as err:  # rosbags raises WriterError and OSError
            raise RuntimeLayerError(f"cannot open bag {self.path}: {err}") from err
        self._conns: dict[str, Any] = {}
        self.messages = 0

    def __call__(self, topic: str, msg_type: str, msg: Any, t_s: float) -> None:
        """Write one message at sim time ``t_s`` (seconds)."""
        if topic in self.exclude or self._writer is None:
            return
        conn = self._conns.get(topic)
        if conn is None:
            conn = self._writer.add_connection(topic, msg_type, typestore=self.factory.typestore)
            self._conns[topic] = conn
        self._writer.write(conn, max(0, int(round(t_s * 1e9))), self.factory.serialize(msg))
        self.messages += 1

    def close(self) -> None:
        """Finish the bag (writes metadata.yaml); safe to call twice."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
