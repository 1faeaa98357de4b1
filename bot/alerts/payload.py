"""Alertmanager webhook payload (version 4; legacy 3 accepted), parsed at the edge.

Real senders vary (see docs/decisions.md): fingerprints and per-alert `status` may be absent,
`groupKey` was an integer in version 3, URLs can be odd (`http://:9093`). The model accepts
those shapes and nothing looser: labels and annotations are string maps, times are RFC 3339.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.core.times import UtcDatetime

AlertStatusText = Literal["firing", "resolved"]


def _group_key_to_text(value: object) -> object:
    # Version 3 sent groupKey as an unsigned 64-bit hash number (sometimes beyond 2**64 in
    # test data); as text it identifies the group just as well.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: AlertStatusText | None = None
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: UtcDatetime = Field(alias="startsAt")
    ends_at: UtcDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL", max_length=8192)
    fingerprint: str | None = Field(default=None, max_length=128)


class AlertmanagerWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    version: Literal["4", "3"]
    group_key: Annotated[str, BeforeValidator(_group_key_to_text)] = Field(
        alias="groupKey", min_length=1, max_length=16384
    )
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    status: AlertStatusText
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL", max_length=8192)
    alerts: list[AlertmanagerAlert] = Field(min_length=1)
