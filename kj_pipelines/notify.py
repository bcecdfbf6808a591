"""The one notifier: Apprise (DingTalk, WeCom, e-mail, …) when ``KJ_NOTIFY_URLS`` is set, else
Markdown files in ``outbox/`` that the bureau's office forwards by hand."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path


class DeliveryError(RuntimeError):
    """A notification could not be delivered; it stays pending and is retried."""


class Notifier:
    def __init__(self, urls: list[str], outbox: Path):
        self.urls, self.outbox = [u for u in urls if u.strip()], outbox

    @classmethod
    def from_setting(cls, setting: str, outbox: Path) -> Notifier:
        return cls(setting.split(), outbox)

    def send(self, key: str, title: str, body: str) -> str:
        """Deliver one message; returns where it went. Raises :class:`DeliveryError`."""
        if not self.urls:
            return str(self._write_outbox(key, title, body))
        import apprise  # deferred: only deliveries need it

        sender = apprise.Apprise()
        for url in self.urls:
            if not sender.add(url):
                raise DeliveryError(f"无法识别的通知地址：{url.split('://')[0]}://…")
        try:
            ok = sender.notify(title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN)
        except Exception as exc:  # noqa: BLE001 - any transport error means "retry later"
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if not ok:
            raise DeliveryError("通知服务未确认送达")
        return f"{len(self.urls)} 个通知渠道"

    def _write_outbox(self, key: str, title: str, body: str) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^0-9A-Za-z_.-]+", "_", key) + ".md"
        target = self.outbox / name
        fd, tmp = tempfile.mkstemp(dir=self.outbox, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"# {title}\n\n{body}\n")
        os.replace(tmp, target)  # a reader never sees half a message
        return target
