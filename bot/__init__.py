"""The Telegram bot of reportbot: a thin layer over the retrieval library."""
