"""The floor for the bot load test: python-telegram-bot doing nothing but reply.

Same builder options as the real bot (HTML defaults, concurrent updates, connection pool, settings read from the
same environment), one handler that answers every text with a fixed reply of the size of a typical answer, no
library, no rendering. What this process needs per question is what the framework and its HTTP stack cost on
this machine: the real bot cannot be faster. Run as `python -m bench.floorbot` (bench/botload.py does).
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults, MessageHandler, filters

from bot.settings import BotSettings

QUOTE = "<blockquote>" + "坚持<b>四下基层</b>，深入调查研究。" * 12 + "</blockquote>"
REPLY = (
    "共有 <b>5</b> 份报告提到“四下基层”：\n\n"
    + (f"<b>#1 《主题教育工作开展情况》</b> · 3处\n{QUOTE}\n— 《主题教育工作开展情况》 · 一、主要做法 · 第4段\n\n") * 5
)
KEYBOARD = InlineKeyboardMarkup(
    [[InlineKeyboardButton("全文 #1·4", callback_data="p:1:4"), InlineKeyboardButton("下一页", callback_data="a:x:1")]]
)


async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(REPLY, reply_markup=KEYBOARD)


def main() -> None:
    settings = BotSettings()
    assert settings.token is not None and settings.base_url is not None
    application = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.base_url)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .concurrent_updates(settings.concurrent_updates)
        .connection_pool_size(settings.connection_pool_size)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, reply))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
