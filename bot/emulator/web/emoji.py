"""Emoji shortcodes (`:white_check_mark:`) as the characters Slack shows for them.

Only the common ones: reactions people use on incident cards and the codes bots write.
Anything else stays `:name:`, which is what Slack shows for a custom emoji it cannot load.
"""

from __future__ import annotations

import re

EMOJI = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "x": "❌",
    "eyes": "👀",
    "+1": "👍",
    "thumbsup": "👍",
    "-1": "👎",
    "thumbsdown": "👎",
    "fire": "🔥",
    "rotating_light": "🚨",
    "warning": "⚠️",
    "no_entry": "⛔",
    "octagonal_sign": "🛑",
    "stop_sign": "🛑",
    "tada": "🎉",
    "rocket": "🚀",
    "pray": "🙏",
    "raised_hands": "🙌",
    "ok_hand": "👌",
    "wave": "👋",
    "heart": "❤️",
    "thinking_face": "🤔",
    "mag": "🔍",
    "bell": "🔔",
    "no_bell": "🔕",
    "pager": "📟",
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "lock": "🔒",
    "closed_lock_with_key": "🔐",
    "red_circle": "🔴",
    "large_orange_circle": "🟠",
    "large_green_circle": "🟢",
    "large_blue_circle": "🔵",
    "point_right": "👉",
    "memo": "📝",
    "bulb": "💡",
    "crescent_moon": "🌙",
    "wrench": "🔧",
    "hammer_and_wrench": "🛠️",
    "sos": "🆘",
    "construction": "🚧",
    "zzz": "💤",
    "white_circle": "⚪",
    "question": "❓",
    "exclamation": "❗",
}
# The reactions the page offers in its picker: approve, acknowledge-ish, and a few more.
PICKER = ("white_check_mark", "eyes", "+1", "fire", "rotating_light", "tada")
SHORTCODE = re.compile(r":([a-z0-9_+\-']{1,100}):")


def emoji(name: str) -> str:
    """The character for a shortcode name, or `:name:` when it is not a known one."""
    return EMOJI.get(name, f":{name}:")


def replace_shortcodes(text: str) -> str:
    """Known `:name:` codes in plain text become their characters; others stay as typed."""
    return SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
