"""Read the renderer's HTML back the way a browser would: its tags, attributes and text."""

from __future__ import annotations

from html.parser import HTMLParser

# What the renderer itself writes; anything else in its output came from the data.
TAGS = {
    "div", "span", "strong", "em", "del", "code", "pre", "blockquote", "br", "a", "time", "h3",
    "hr", "button", "select", "option", "input", "textarea", "label", "small", "figure",
    "figcaption", "ul", "ol", "li",
}  # fmt: skip
ATTRIBUTES = {
    "class", "href", "target", "rel", "datetime", "title", "type", "name", "value", "disabled",
    "data-el", "data-confirm", "aria-label", "selected", "multiple", "id", "role", "checked",
    "placeholder", "maxlength", "minlength", "rows", "step", "for",
}  # fmt: skip
SAFE_HREF = ("http://", "https://", "mailto:", "/?")


class Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    @property
    def text(self) -> str:
        """Every text node, then every attribute value, spaces normalised."""
        values = [v for _, v in self.attributes if v]
        return " ".join(" ".join([*self.texts, *values]).split())


def parse(html: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(html)
    parsed.close()
    return parsed


def markup_problems(html: str) -> list[str]:
    """Tags, attributes or links in the output that the renderer does not write itself."""
    parsed = parse(html)
    problems = [f"tag <{t}>" for t in parsed.tags if t not in TAGS]
    problems += [f"attribute {name}" for name, _ in parsed.attributes if name not in ATTRIBUTES]
    problems += [
        f"href {value!r}"
        for name, value in parsed.attributes
        if name == "href" and not (value or "").startswith(SAFE_HREF)
    ]
    return problems
