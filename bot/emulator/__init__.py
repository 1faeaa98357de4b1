"""A local stand-in for Slack's Web API that enforces Slack's rules (imports nothing of Seawall)."""

from bot.emulator.app import SlackEmulator
from bot.emulator.config import EmulatedUser, EmulatorConfig
from bot.emulator.models import EmulatedMessage, EphemeralMessage, RecordedCall
from bot.emulator.payloads import (
    SignedRequest,
    TeamInfo,
    build_block_action,
    build_event,
    build_slash_command,
    build_url_verification,
    build_view_submission,
    sign,
)
from bot.emulator.render import render_message
from bot.emulator.sender import SlackSender

__all__ = [
    "EmulatedMessage",
    "EmulatedUser",
    "EmulatorConfig",
    "EphemeralMessage",
    "RecordedCall",
    "SignedRequest",
    "SlackEmulator",
    "SlackSender",
    "TeamInfo",
    "build_block_action",
    "build_event",
    "build_slash_command",
    "build_url_verification",
    "build_view_submission",
    "render_message",
    "sign",
]
