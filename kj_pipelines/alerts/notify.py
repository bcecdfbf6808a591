"""The one notifier: Apprise (DingTalk, WeCom, e-mail, …) when ``KJ_NOTIFY_URLS`` is set, else
Markdown files in ``outbox/`` that the bureau's office forwards by hand."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from kj_pipelines.core.files import write_atomic


def scheme(url: str) -> str:
    return url.split("://", 1)[0] if "://" in url else "?"


SECRET_QUERY = re.compile(r"(?i)((?:access_?token|token|key|secret|sign|password|pass)=)[^&\s'\"]+")


def redact(text: str, urls: list[str]) -> str:
    """The text without any part of the notification URLs that could be a credential: each
    URL whole, its user and password, every path segment and query value of 4 characters or
    more; and any ``token=…``-like query value, whatever URL it came from."""
    secrets: set[str] = set()
    for url in urls:
        parts = urlsplit(url)
        secrets |= {url, parts.netloc, parts.username or "", parts.password or ""}
        secrets |= {seg for seg in parts.path.split("/") if len(seg) >= 4}
        secrets |= {v for _, v in parse_qsl(parts.query) if len(v) >= 4}
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    return SECRET_QUERY.sub(r"\1***", text)


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

        # Apprise logs each URL it loads and each endpoint it calls (the token is in its path
        # or query): silenced for the whole delivery; our messages name only the schemes
        quiet = logging.getLogger("apprise")
        was, quiet.disabled = quiet.disabled, True
        try:
            sender = apprise.Apprise()
            for url in self.urls:
                if not sender.add(url):
                    raise DeliveryError(f"无法识别的通知地址：{scheme(url)}://…")
            try:
                ok = sender.notify(title=title, body=body,
                                   body_format=apprise.NotifyFormat.MARKDOWN)
            except Exception as exc:  # noqa: BLE001 - any transport error means "retry later"
                raise DeliveryError(redact(f"{type(exc).__name__}: {exc}", self.urls)) from None
        finally:
            quiet.disabled = was
        if not ok:
            raise DeliveryError(f"通知服务未确认送达（{'、'.join(scheme(u) for u in self.urls)}）")
        return f"{len(self.urls)} 个通知渠道"

    def _write_outbox(self, key: str, title: str, body: str) -> Path:
        self.outbox.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^0-9A-Za-z_.-]+", "_", key) + ".md"
        # a reader never sees half a message
        return write_atomic(self.outbox / name, f"# {title}\n\n{body}\n".encode())
