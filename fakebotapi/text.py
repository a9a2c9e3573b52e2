"""Telegram's text rules: UTF-16 lengths, its HTML parse mode (as tdlib parses it) and the entities it adds to a
user's text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from fakebotapi.records import JSONDict

_WORD_CHAR_RE: Final = re.compile(r"\w")
_BOT_COMMAND_RE: Final = re.compile(r"/([A-Za-z0-9_]{1,64})(@[A-Za-z0-9_]{3,32})?")
_MENTION_RE: Final = re.compile(r"@([A-Za-z0-9_]{2,32})")


class EntityParseError(ValueError):
    """Raised by :func:`parse_html` with Telegram's wording of what is wrong with the markup."""


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_index: int


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: how Telegram measures text limits and entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _byte_offset(text: str, index: int) -> int:
    # Telegram reports HTML errors at UTF-8 byte offsets of the original text.
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _is_space(ch: str) -> bool:
    # Mirrors tdlib's is_space, where the terminating NUL counts as space; "" is end of text.
    return ch == "" or ch in " \t\r\n\v\0"


def _decode_html_entity(text: str, pos: int) -> tuple[int, int] | None:
    """Decode the entity at ``text[pos] == '&'`` like Telegram: (code point, end) or None.

    Only &lt; &gt; &amp; &quot; and numeric references are entities; the ';' is optional.
    """
    n = len(text)
    end = pos + 1
    value = 0
    if end < n and text[end] == "#":
        end += 1
        if end < n and text[end] == "x":
            end += 1
            while end < n and text[end] in "0123456789abcdefABCDEF":
                value = value * 16 + int(text[end], 16)
                end += 1
        else:
            while end < n and text[end] in "0123456789":
                value = value * 10 + int(text[end])
                end += 1
        if value == 0 or value >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = {"lt": 0x3C, "gt": 0x3E, "amp": 0x26, "quot": 0x22}.get(text[pos + 1 : end])
        if named is None:
            return None
        value = named
    if end < n and text[end] == ";":
        end += 1
    return value, end


_SIMPLE_TAG_ENTITIES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_SUPPORTED_TAGS: Final = frozenset({*_SIMPLE_TAG_ENTITIES, "a", "code", "pre", "blockquote", "tg-emoji"})


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSONDict]]:
    """Parse Bot API HTML into (plain text, MessageEntity dicts) or raise EntityParseError.

    Follows tdlib's ``parse_html`` (the code behind Telegram's parse_mode "HTML"): the supported
    tags, attribute syntax, the optional ';' of entities, ``<pre><code class="language-x">``
    merging, ``<blockquote expandable>``, and the error messages with UTF-8 byte offsets. Offsets
    and lengths of the returned entities are in UTF-16 code units. With ``strict_ampersand`` a
    '&' that does not start an entity is an error (Telegram would keep it literally).
    """
    n = len(text)
    out: list[str] = []
    utf16 = 0
    entities: list[JSONDict] = []
    stack: list[_OpenTag] = []

    def at(k: int) -> str:
        return text[k] if k < n else ""

    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                code, i = decoded
                if 0xD800 <= code <= 0xDFFF:
                    raise EntityParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out.append(chr(code))
                utf16 += 2 if code > 0xFFFF else 1
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Character "&" is reserved and must be escaped as "&amp;" at byte offset {_byte_offset(text, i)}'
                )
        if c != "<":
            out.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        offset = _byte_offset(text, begin)
        i += 1
        if at(i) != "/":
            # Start tag: name up to whitespace or '>'.
            while not _is_space(at(i)) and at(i) != ">":
                i += 1
            if i >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
            tag = text[begin + 1 : i].lower()
            if tag not in _SUPPORTED_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {offset}')
            argument = ""
            while at(i) != ">":
                while i < n and _is_space(at(i)):
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while not _is_space(at(i)) and at(i) not in ("=", ">"):
                    i += 1
                attr_name = text[attr_begin:i]
                if not attr_name:
                    raise EntityParseError(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
                while i < n and _is_space(at(i)):
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr_name.lower() == "expandable":
                        argument = "expandable"
                        continue
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {offset}'
                    )
                i += 1
                while i < n and _is_space(at(i)):
                    i += 1
                if i >= n:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {offset}')
                if at(i) not in ("'", '"'):
                    # An unquoted name token: letters, digits, '.' and '-'.
                    token_begin = i
                    while at(i) and ((at(i).isascii() and at(i).isalnum()) or at(i) in (".", "-")):
                        i += 1
                    value = text[token_begin:i].lower()
                    if not _is_space(at(i)) and at(i) != ">":
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_html_entity(text, i)
                            if decoded is not None:
                                chars.append(chr(decoded[0]))
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if i < n:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
                if tag == "a" and attr_name == "href":
                    argument = value
                elif tag == "code" and attr_name == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attr_name == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attr_name == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attr_name == "expandable":
                    argument = "expandable"
            i += 1  # the '>'
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
            stack.append(_OpenTag(tag, argument, utf16, len(out)))
            continue

        # End tag.
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
        i += 1
        name_begin = i
        while not _is_space(at(i)) and at(i) != ">":
            i += 1
        end_name = text[name_begin:i].lower()
        while i < n and _is_space(at(i)):
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {offset}")
        i += 1
        top = stack[-1]
        if end_name and end_name != top.name:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {offset}, expected "</{top.name}>", found "</{end_name}>"'
            )
        stack.pop()
        length = utf16 - top.utf16_offset
        if length <= 0:
            continue
        entity: JSONDict = {"offset": top.utf16_offset, "length": length}
        last = entities[-1] if entities else None
        same_range = last is not None and last["offset"] == top.utf16_offset and last["length"] == length
        if top.name in _SIMPLE_TAG_ENTITIES:
            entities.append({"type": _SIMPLE_TAG_ENTITIES[top.name], **entity})
        elif top.name == "tg-emoji":
            if not top.argument.isdigit() or int(top.argument) == 0:
                raise EntityParseError("Invalid custom emoji identifier specified")
            entities.append({"type": "custom_emoji", **entity, "custom_emoji_id": top.argument})
        elif top.name == "a":
            url = top.argument or "".join(out[top.out_index :])
            user_match = re.fullmatch(r"tg://user\?id=(\d+)", url)
            if user_match:
                user = {"id": int(user_match.group(1)), "is_bot": False, "first_name": ""}
                entities.append({"type": "text_mention", **entity, "user": user})
            elif url:
                entities.append({"type": "text_link", **entity, "url": url})
        elif top.name == "pre":
            if last is not None and same_range and last["type"] == "code" and last.get("_language"):
                last["type"] = "pre"
                last["language"] = last.pop("_language")
            else:
                entities.append({"type": "pre", **entity})
        elif top.name == "code":
            if last is not None and same_range and last["type"] == "pre" and top.argument:
                last["language"] = top.argument
            else:
                entities.append({"type": "code", **entity, "_language": top.argument})
        else:  # blockquote
            kind = "expandable_blockquote" if top.argument == "expandable" else "blockquote"
            entities.append({"type": kind, **entity})
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    for ent in entities:
        ent.pop("_language", None)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def detect_user_entities(text: str) -> list[JSONDict]:
    """Entities Telegram adds to a user's plain text: bot commands and @mentions.

    Uses Telegram's boundaries: a command or mention must not touch a word character (letters
    incl. CJK, digits, '_'), so "/ask什么" is *not* a command while "/ask 什么" is.
    """
    entities: list[JSONDict] = []

    def is_word(ch: str) -> bool:
        return bool(ch) and _WORD_CHAR_RE.match(ch) is not None

    def utf16_offset(index: int) -> int:
        return utf16_len(text[:index])

    for m in _BOT_COMMAND_RE.finditer(text):
        before = text[m.start() - 1] if m.start() > 0 else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if is_word(before) or before in ("/", "<", ">"):
            continue
        if is_word(after) or after in ("/", "<", ">"):
            continue
        entities.append({"type": "bot_command", "offset": utf16_offset(m.start()), "length": utf16_len(m[0])})
    for m in _MENTION_RE.finditer(text):
        before = text[m.start() - 1] if m.start() > 0 else ""
        after = text[m.end()] if m.end() < len(text) else ""
        if is_word(before) or is_word(after):
            continue
        entities.append({"type": "mention", "offset": utf16_offset(m.start()), "length": utf16_len(m[0])})
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return entities
