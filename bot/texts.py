"""Every sentence the bot (and the command line) says, in Chinese and English. HTML-safe: placeholders are escaped
by the caller."""

from __future__ import annotations

from typing import Any

from retrieval.errors import UnreadableReport

ZH, EN = "zh", "en"

_TEXTS: dict[str, tuple[str, str]] = {
    "start": (
        "你好！我是工作汇报问答机器人。\n\n直接发问题给我，我会从报告中找出原文段落，标明出处（报告、章节、段落）。"
        "可以问“哪些报告提到<b>四下基层</b>”，也可以问具体内容。\n\n试试下面的问题，或发送 /help 查看全部命令。",
        "Hi! I answer questions about the work reports with the exact passages and where they come from "
        "(report, section, paragraph).\n\nAsk “which reports mention <b>四下基层</b>” or anything about their "
        "content. Try one of the questions below, or send /help for every command.",
    ),
    "help": (
        "<b>怎么用</b>\n直接发送问题，例如：\n• 哪些报告提到四下基层\n• 全县生产总值达到多少\n• 各单位存在哪些问题\n\n"
        "<b>命令</b>\n/reports 报告列表\n/report 编号 报告目录\n/search 问题 检索段落\n/mentions 词语 哪些报告提到该词\n"
        "/compare 存在问题 [2024年] [单位] 对比各报告的同一部分\n/trend 词语 历年提及情况（图表）\n/copies 编号 查重\n"
        "/digest 今日摘要\n/subscribe 订阅每日摘要\n/unsubscribe 取消订阅\n/watch 词语 关注词语\n"
        "/unwatch 词语 取消关注\n/watches 我的关注\n/stats 统计\n\n在群里请 @我 或回复我的消息。"
        "也可以在任意聊天中输入 @{username} 加关键词。",
        "<b>How to use</b>\nJust send a question, for example:\n• which reports mention 四下基层\n"
        "• 全县生产总值达到多少\n• 各单位存在哪些问题\n\n<b>Commands</b>\n/reports list reports\n"
        "/report ID outline of a report\n/search QUERY ranked passages\n/mentions TERM reports that mention it\n"
        "/compare PART [2024] [unit] one part of every report side by side\n/trend TERM a term over the years (chart)\n/copies ID copied text\n"
        "/digest today's digest\n/subscribe daily digest\n/unsubscribe stop the digest\n/watch TERM watch a term\n"
        "/unwatch TERM stop watching\n/watches your watched terms\n/stats numbers\n\n"
        "In groups, mention me or reply to my message. Inline: type @{username} and a query in any chat.",
    ),
    "help_admin": (
        "\n\n<b>管理员</b>\n发送报告文件即可添加（同名文件会更新）；/delete 编号 删除报告（需按按钮确认）；"
        "/edit 编号 标题|日期|单位 新内容 修改报告信息（例如 /edit 4 日期 2024-03-05）。",
        "\n\n<b>Admins</b>\nSend a report file to add it (a file of the same name updates it); /delete ID deletes a "
        "report (after you confirm with a button); /edit ID title|date|unit VALUE corrects a report's details "
        "(e.g. /edit 4 date 2024-03-05).",
    ),
    "usage_edit": (
        "用法：/edit 编号 字段 新内容\n字段：标题（title）、日期（date）、单位（unit）\n"
        "例如：\n/edit 4 标题 第二批主题教育10月份总结\n/edit 4 日期 2023-10-31（也可写 2023-10 或 2023）\n"
        "/edit 4 单位 X局党组\n/edit 4 日期 -（日期未知）\n/edit 4 还原 单位（恢复从文件读出的内容）\n"
        "修改按文件名保存，重新导入该文件后仍然有效。",
        "Usage: /edit ID FIELD VALUE\nFields: title, date, unit\nFor example:\n/edit 4 title 第二批主题教育10月份总结\n"
        "/edit 4 date 2023-10-31 (or 2023-10, 2023)\n/edit 4 unit X局党组\n/edit 4 date - (date not known)\n"
        "/edit 4 reset unit (back to what the file says)\nCorrections are kept by file name and outlive "
        "ingesting the file again.",
    ),
    "edit_refused": ("抱歉，只有管理员可以修改报告信息。", "Sorry, only admins can correct a report's details."),
    "edit_bad_date": (
        "日期无法识别：{value}。请写成 2024-03-05、2024-03 或 2024。",
        "Not a date: {value}. Write it as 2024-03-05, 2024-03 or 2024.",
    ),
    "edit_empty_title": ("标题不能为空。", "A title cannot be empty."),
    "edited": ("已修改报告 #{id}：\n{line}", "Report #{id} corrected:\n{line}"),
    "empty": ("请输入问题。", "Please type a question."),
    "export": ("导出", "Export"),
    "usage_copies": (
        "用法：/copies 报告编号 [最短字数]，例如 /copies 3 或 /copies 3 30（默认连续20字相同才算）",
        "Usage: /copies REPORT_ID [SHORTEST_RUN], e.g. /copies 3 or /copies 3 30 (20 characters by default)",
    ),
    "copies_head": (
        "<b>#{id} {title}</b>与其他报告相同的文字（连续 {n} 字以上）：{count} 处，涉及 {reports} 份报告，占全文 <b>{share}</b>",
        "<b>#{id} {title}</b>: text standing word for word in other reports ({n}+ characters): {count} runs "
        "in {reports} reports, <b>{share}</b> of its text",
    ),
    "copies_none": ("没有发现与其他报告相同的文字。", "No text of it stands in another report."),
    "copies_where": ("本报告第{p}段 ↔ 第{q}段", "¶{p} here ↔ ¶{q} there"),
    "copies_more_reports": ("还有 {count} 份报告（导出可看全部）", "{count} more reports (export for all)"),
    "copies_common_head": (
        "<b>常见表述</b>（许多报告都有，不算重复）：{count} 条",
        "<b>Common phrasing</b> (many reports have it; not copying): {count}",
    ),
    "copies_common_line": ("• {text}（{reports} 份）", "• {text} ({reports} reports)"),
    "export_copies": ("查重结果（Word 文档）", "Copied text (Word document)"),
    "export_docx": ("“{question}”的回答（Word 文档）", "The answer to “{question}” (Word document)"),
    "export_counts": ("各报告提及次数（表格）", "Mentions per report (spreadsheet)"),
    "feedback_thanks": ("谢谢反馈！", "Thanks for the feedback!"),
    "feedback_ask": (
        "抱歉没有答好。请直接回复这条消息，简单说说您期望的答案（哪份报告、哪一段或什么内容）。",
        "Sorry the answer missed. Reply to this message with what you expected (which report, paragraph or content).",
    ),
    "feedback_placeholder": ("期望的答案…", "What you expected…"),
    "feedback_saved": ("已记录，谢谢！", "Noted, thank you!"),
    "stats_feedback": (
        "反馈：👍 {up} · 👎 {down} · 留言 {comments}（reportbot feedback 导出）",
        "Feedback: 👍 {up} · 👎 {down} · {comments} comments (reportbot feedback exports them)",
    ),
    "followup_scope": ("按“{words}”重新回答：", "The same question for “{words}”:"),
    "followup_term": ("按“{term}”重新回答：", "The same question for “{term}”:"),
    "followup_nth": (
        "只看上一个回答的第{n}份：#{id}《{title}》",
        "Only report {n} of the last answer: #{id}《{title}》",
    ),
    "followup_part": ("只看上一个回答中各报告的“{part}”部分：", "Only the “{part}” part of the last answer's reports:"),
    "followup_page": ("上一个回答的第 {page} 页：", "Page {page} of the last answer:"),
    "followup_no_more": ("上一个回答已经全部显示了。", "That was all of the last answer."),
    "followup_no_report": (
        "上一个回答只有 {count} 份报告，没有第{n}份。",
        "The last answer has {count} reports; there is no report {n}.",
    ),
    "usage_trend": (
        "用法：/trend 词语，例如 /trend 新质生产力（也可以问“新质生产力历年提及情况”）",
        "Usage: /trend TERM, e.g. /trend 新质生产力 (or ask “新质生产力历年提及情况”)",
    ),
    "trend_caption": ("“{term}”共 {mentions} 处、{reports} 份报告：", "“{term}”: {mentions}× in {reports} reports: "),
    "trend_head_year": (
        "“{term}”历年提及情况（共 <b>{mentions}</b> 处，{reports} 份报告）：",
        "“{term}” by year ({mentions}× in {reports} reports):",
    ),
    "trend_head_unit": (
        "“{term}”各单位提及情况（共 <b>{mentions}</b> 处，{reports} 份报告）：",
        "“{term}” by unit ({mentions}× in {reports} reports):",
    ),
    "trend_head_report": (
        "“{term}”各报告提及情况（共 <b>{mentions}</b> 处，{reports} 份报告）：",
        "“{term}” by report ({mentions}× in {reports} reports):",
    ),
    "trend_line": ("{name} · {mentions} 处 · {reports} 份报告", "{name} · {mentions}× · {reports} reports"),
    "usage_compare": (
        "用法：/compare 存在问题（或 主要做法、下一步打算），可加年份、单位或报告编号，例如 /compare 存在问题 2024年 广东",
        "Usage: /compare 存在问题 (or 主要做法, 下一步打算), optionally with years, units or report ids, e.g. "
        "/compare 存在问题 2024年 广东",
    ),
    "too_long": (
        "问题太长了，请精简到{limit}字以内。",
        "That question is too long; please keep it under {limit} characters.",
    ),
    "no_results": ("没有找到相关内容，换个说法试试。", "Nothing relevant found; try other words."),
    "mention_head": ("共有 <b>{count}</b> 份报告提到“{term}”：", "<b>{count}</b> reports mention “{term}”:"),
    "mention_none": ("没有报告提到“{term}”。", "No report mentions “{term}”."),
    "nearest": ("以下是最接近的内容（不含该词）：", "The nearest passages (they do not contain it):"),
    "mention_count": ("{count} 处", "{count}×"),
    "mention_groups_unit": (
        "共有 <b>{groups}</b> 个单位（{reports} 份报告）提到“{term}”：",
        "<b>{groups}</b> units ({reports} reports) mention “{term}”:",
    ),
    "mention_groups_year": (
        "共有 <b>{groups}</b> 个年份（{reports} 份报告）提到“{term}”：",
        "<b>{groups}</b> years ({reports} reports) mention “{term}”:",
    ),
    "group_line": ("<b>{name}</b> · {count} 处：{reports}", "<b>{name}</b> · {count}×: {reports}"),
    "group_more": ("等 {count} 份", "and {count} more"),
    "unknown_unit": ("（单位不详）", "(unit unknown)"),
    "unknown_year": ("（年份不详）", "(year unknown)"),
    "scope_line": ("范围：{scope}", "Scope: {scope}"),
    "scope_everything": ("{scope}（全部报告）", "{scope} (every report)"),
    "scope_year": ("{year}年", "{year}"),
    "scope_number": ("第{n}份报告", "report no. {n}"),
    "scope_no_year": ("没有{years}的报告；有{available}的。", "There is no report of {years}; there are {available}."),
    "scope_no_dates": (
        "没有{years}的报告（报告都没有日期）。",
        "There is no report of {years} (no report has a date).",
    ),
    "scope_no_report": (
        "没有{refs}；共有 {count} 份报告（#{first}–#{last}），发送 /reports 查看列表。",
        "There is no {refs}; there are {count} reports (#{first}–#{last}); send /reports for the list.",
    ),
    "scope_no_reports": ("还没有报告。", "There are no reports yet."),
    "scope_no_title": (
        "没有标题为《{title}》的报告，发送 /reports 查看列表。",
        "No report is titled 《{title}》; send /reports for the list.",
    ),
    "scope_no_overlap": ("没有同时符合“{scope}”的报告：", "No report is in all of “{scope}”:"),
    "scope_part": ("• {scope}：{reports}", "• {scope}: {reports}"),
    "search_head": ("与“{query}”最相关的段落：", "Passages most relevant to “{query}”:"),
    "page": ("第 {page}/{pages} 页", "page {page}/{pages}"),
    "part_progress": ("主要做法及成效", "what was done"),
    "part_problems": ("存在问题", "problems"),
    "part_plans": ("下一步打算", "plans"),
    "part_head": (
        "共有 <b>{count}</b> 份报告有“{part}”部分（新的在前）：",
        "<b>{count}</b> reports have a “{part}” part (newest first):",
    ),
    "part_whole_head": ("<b>#{id} {title}</b> · “{part}”部分", "<b>#{id} {title}</b> · its “{part}” part"),
    "part_size": ("共 {paragraphs} 段、{chars} 字", "{paragraphs} ¶, {chars} characters"),
    "part_full": ("全文 #{id}", "All of #{id}"),
    "prev": ("« 上一页", "« Previous"),
    "next": ("下一页 »", "Next »"),
    "full_paragraph": ("全文 {n}", "Full ¶{n}"),
    "source": ("{title} · {section} · 第{paragraph}段", "{title} · {section} · ¶{paragraph}"),
    # an inline result's title is plain text, not HTML: the title goes in as it is
    "inline_quote_title": ("《{title}》 · 第{paragraph}段", "《{title}》 · ¶{paragraph}"),
    "no_section": ("正文", "body"),
    "expired": (
        "这个按钮已失效（机器人重启过），请重新提问。",
        "This button has expired (the bot restarted); please ask again.",
    ),
    "not_your_answer": (
        "这个按钮属于别人的提问，只有提问的人可以翻页；请自己提问。",
        "This button belongs to someone else's question; only they can turn its pages. Please ask yourself.",
    ),
    "reports_head": ("共 {count} 份报告：", "{count} reports:"),
    "reports_none": ("还没有报告。", "There are no reports yet."),
    "report_line": ("#{id} {title}{meta} · {paragraphs}段", "#{id} {title}{meta} · {paragraphs} ¶"),
    "reports_filtered_head": ("符合“{filter}”的报告共 {count} 份：", "{count} reports match “{filter}”:"),
    "reports_none_filtered": (
        "没有符合“{filter}”的报告。发送 /reports 查看全部（也可以按年份或单位筛选，例如 /reports 2024、/reports 广东）。",
        "No report matches “{filter}”. Send /reports for all of them (or filter by year or unit, e.g. /reports 2024, "
        "/reports 广东).",
    ),
    "outline_parts": ("部分：{parts}", "Parts: {parts}"),
    "reports_filter_too_long": (
        "筛选词太长了：请写年份或单位，例如 /reports 2024、/reports 广东。",
        "That filter is too long: give a year or a unit, e.g. /reports 2024, /reports 广东.",
    ),
    "outline_head": (
        "#{id} {title}\n日期：{date} · 单位：{unit}\n{paragraphs}段 · 来源：{source}",
        "#{id} {title}\nDate: {date} · Unit: {unit}\n{paragraphs} ¶ · file: {source}",
    ),
    "not_known": ("未知", "unknown"),
    "outline_empty": ("（这份报告没有分节标题）", "(this report has no section headings)"),
    "unknown_report": (
        "没有编号为 {id} 的报告，发送 /reports 查看列表。",
        "There is no report {id}; send /reports for the list.",
    ),
    "unknown_paragraph": ("报告 #{id} 没有第{n}段。", "Report #{id} has no paragraph {n}."),
    "paragraph_head": ("{title} · {section} · 第{n}段", "{title} · {section} · ¶{n}"),
    "usage_report": ("用法：/report 报告编号，例如 /report 1", "Usage: /report ID, e.g. /report 1"),
    "usage_search": (
        "用法：/search 问题，例如 /search 全县生产总值",
        "Usage: /search QUERY, e.g. /search 全县生产总值",
    ),
    "usage_mentions": (
        "用法：/mentions 词语，例如 /mentions 四下基层",
        "Usage: /mentions TERM, e.g. /mentions 四下基层",
    ),
    "usage_watch": ("用法：/watch 词语，例如 /watch 调查研究", "Usage: /watch TERM, e.g. /watch 调查研究"),
    "usage_unwatch": ("用法：/unwatch 词语", "Usage: /unwatch TERM"),
    "unknown_command": (
        "没有这个命令。发送 /help 查看可用命令。",
        "Unknown command. Send /help for the list.",
    ),
    "subscribed": ("已订阅：每天 {time} 发送摘要。", "Subscribed: a digest every day at {time}."),
    "already_subscribed": (
        "你已经订阅了，每天 {time} 发送摘要。",
        "You are already subscribed (daily at {time}).",
    ),
    "unsubscribed": ("已取消订阅。", "Unsubscribed."),
    "not_subscribed": ("你还没有订阅。", "You were not subscribed."),
    "watching": (
        "已关注“{term}”：新报告中出现它时会在每日摘要里告诉你。",
        "Watching “{term}”: new passages with it come in your daily digest.",
    ),
    "already_watching": ("你已经在关注“{term}”。", "You already watch “{term}”."),
    "watch_too_long": (
        "关注的词语请不超过{limit}个字。",
        "A watched term can be at most {limit} characters.",
    ),
    "unwatched": ("已取消关注“{term}”。", "Stopped watching “{term}”."),
    "not_watching": ("你没有关注“{term}”。", "You do not watch “{term}”."),
    "watch_limit": (
        "每个聊天最多关注{limit}个词语；请先用 /unwatch 取消一些。",
        "A chat can watch at most {limit} terms; /unwatch some first.",
    ),
    "digest_more": (
        "（以上是前 {shown} 段；还有 {left} 段未列出，可用 /search 或 /mentions 查看。）",
        "(The first {shown} passages above; {left} more not listed: use /search or /mentions.)",
    ),
    "watches_head": ("你关注的词语：", "Your watched terms:"),
    "watches_none": (
        "你还没有关注任何词语。用 /watch 词语 添加。",
        "You watch no terms yet. Add one with /watch TERM.",
    ),
    "stats": (
        "报告 <b>{reports}</b> 份 · 段落 <b>{paragraphs}</b> 个 · 片段 <b>{passages}</b> 个\n最近入库：{last_ingest}",
        "<b>{reports}</b> reports · <b>{paragraphs}</b> paragraphs · <b>{passages}</b> passages\n"
        "Last ingest: {last_ingest}",
    ),
    "digest_head": ("<b>每日摘要</b> · {day}", "<b>Daily digest</b> · {day}"),
    "digest_new_reports": ("<b>新报告</b>", "<b>New reports</b>"),
    "digest_key_terms": ("关键词：{terms}", "Key terms: {terms}"),
    "digest_watch": ("<b>关注词“{term}”的新内容</b>", "<b>New on “{term}”</b>"),
    "digest_nothing_new": ("今天没有新内容。今日一段：", "Nothing new today. Passage of the day:"),
    "upload_refused": ("抱歉，只有管理员可以添加报告。", "Sorry, only admins can add reports."),
    "upload_too_large": (
        "文件太大（{size} MB），上限是 {limit} MB。",
        "The file is too large ({size} MB); the limit is {limit} MB.",
    ),
    "upload_unsupported": (
        "支持的文件：.txt、.md、.docx、.doc、.wps、.rtf、.odt、.pdf、.html、.htm 和图片（.jpg、.png 等，也可以直接发送照片）。",
        "Supported files: .txt, .md, .docx, .doc, .wps, .rtf, .odt, .pdf, .html, .htm and images (.jpg, .png, ...;"
        " photos can be sent as they are).",
    ),
    "upload_added": (
        "已添加报告 #{id} 《{title}》，共{paragraphs}段。",
        "Added report #{id} 《{title}》 with {paragraphs} paragraphs.",
    ),
    "upload_replaced": (
        "已更新报告 #{id} 《{title}》，共{paragraphs}段。",
        "Updated report #{id} 《{title}》 with {paragraphs} paragraphs.",
    ),
    "upload_unchanged": (
        "报告 #{id} 《{title}》 没有变化，无需更新。",
        "Report #{id} 《{title}》 is unchanged.",
    ),
    "upload_duplicate": (
        "这个文件与已有的报告 #{id} 《{title}》 内容相同，未重复添加。",
        "This file has the same content as report #{id} 《{title}》; not added again.",
    ),
    "upload_failed": ("无法添加：{reason}", "Could not add it: {reason}"),
    "usage_delete": ("用法：/delete 报告编号，例如 /delete 3", "Usage: /delete ID, e.g. /delete 3"),
    "delete_refused": ("抱歉，只有管理员可以删除报告。", "Sorry, only admins can delete reports."),
    "delete_confirm": (
        "确定删除报告 #{id} 《{title}》（{paragraphs}段，文件：{source}）吗？删除后，回答和每日摘要中都不会再出现它。",
        "Delete report #{id} 《{title}》 ({paragraphs} ¶, file: {source})? "
        "It will no longer appear in answers or digests.",
    ),
    "delete_yes": ("确认删除", "Delete"),
    "delete_no": ("取消", "Cancel"),
    "deleted": ("已删除报告 #{id} 《{title}》。", "Deleted report #{id} 《{title}》."),
    "delete_cancelled": ("已取消，报告 #{id} 没有删除。", "Cancelled; report #{id} was not deleted."),
    "delete_gone": ("报告 #{id} 已经不存在了。", "Report #{id} no longer exists."),
    "storage_failed": (
        "数据库现在无法写入（{reason}）。已有内容仍可查询，请联系管理员。",
        "The database cannot be written right now ({reason}). Questions still work; tell the operator.",
    ),
    "download_failed": (
        "下载文件失败，请稍后重新发送。",
        "Downloading the file failed; please send it again later.",
    ),
    "not_allowed": ("抱歉，这个机器人仅供内部使用。", "Sorry, this bot is private."),
    "rate_limited": (
        "发得太快了，请稍等一会儿再试（每人每分钟最多{limit}个问题或命令；这一分钟内不再提示）。",
        "You are asking too fast; please wait a moment (at most {limit} questions or commands a minute; "
        "no further notice this minute).",
    ),
    "admin_only": ("只有管理员可以这样做。", "Only admins can do that."),
    "error": ("出了点问题，请稍后再试。", "Something went wrong; please try again later."),
    "inline_more": ("在机器人中查看全部", "See everything in the bot"),
}

# Why a file could not be read (retrieval.errors.UnreadableReport), by its reason: plain text, escaped by the bot.
UNREADABLE_TEXTS: dict[str, tuple[str, str]] = {
    "unsupported": (
        "不支持的文件类型（{suffix}），支持 .txt、.md、.docx、.doc、.wps、.rtf、.odt、.pdf、.html、.htm 和图片（.jpg、.png 等）",
        "unsupported file type ({suffix}); supported are .txt, .md, .docx, .doc, .wps, .rtf, .odt, .pdf, "
        ".html, .htm and images (.jpg, .png, ...)",
    ),
    "no_suffix": (
        "不支持的文件类型（无扩展名），支持 .txt、.md、.docx、.doc、.wps、.rtf、.odt、.pdf、.html、.htm 和图片（.jpg、.png 等）",
        "unsupported file type (no extension); supported are .txt, .md, .docx, .doc, .wps, .rtf, .odt, .pdf, "
        ".html, .htm and images (.jpg, .png, ...)",
    ),
    "needs_libreoffice": (
        "需要 LibreOffice 才能读取 {suffix}；也可以另存为 .docx 再发送",
        "LibreOffice is needed to read {suffix} files; you can also save it as .docx and send that",
    ),
    "needs_ocr": (
        "需要文字识别组件（rapidocr-onnxruntime）才能读取扫描件和图片；也可以发送可以复制文字的版本",
        "the OCR component (rapidocr-onnxruntime) is needed to read scans and photos; you can also send "
        "a version with selectable text",
    ),
    "office_encrypted": (
        "文件有密码保护，无法读取；请提供未加密的版本",
        "the file is password-protected; please provide an unencrypted version",
    ),
    "broken_office": (
        "文件已损坏或不是有效的 {suffix} 文件（LibreOffice 无法打开）",
        "the file is damaged or not a valid {suffix} file (LibreOffice cannot open it)",
    ),
    "convert_timeout": (
        "处理超时（超过 {seconds} 秒），文件可能已损坏或过于复杂",
        "processing took too long (over {seconds} s); the file may be damaged or too complex",
    ),
    "scan_too_long": (
        "扫描件有 {pages} 页，超过文字识别的上限（{limit} 页）；请拆分后分别发送，或提供可以复制文字的版本",
        "the scan has {pages} pages, more than OCR reads in one file ({limit}); please split it, or send "
        "a version with selectable text",
    ),
    "broken_image": (
        "图片已损坏或格式无法识别",
        "the image is damaged or in a format that cannot be read",
    ),
    "no_text_image": (
        "图片中没有识别出文字",
        "no text was recognised in the image",
    ),
    "no_html_text": (
        "网页中没有找到正文",
        "no main text was found in the web page",
    ),
    "too_large": (
        "文件太大（{size}，上限为 {limit}）",
        "the file is too large ({size}; the limit is {limit})",
    ),
    "docx_too_large": (
        "Word 文档解压后太大（{size}），无法处理",
        "the Word document is too large once unpacked ({size})",
    ),
    "too_many_chars": (
        "报告的文字太多（超过 {limit} 字的上限），没有入库；请拆分成几份再上传",
        "the report has too much text (over the limit of {limit} characters) and was not added; please split "
        "it into several files",
    ),
    "too_many_paragraphs": (
        "报告的段落太多（超过 {limit} 段的上限），没有入库；请拆分成几份再上传",
        "the report has too many paragraphs (over the limit of {limit}) and was not added; please split "
        "it into several files",
    ),
    "docx_too_complex": (
        "Word 文档的内部结构过于庞大（超过 {limit} 个元素），无法处理；请另存为 .txt 再上传",
        "the Word document's internal structure is too large (over {limit} elements); please save it as .txt",
    ),
    "empty": (
        "文件是空的（没有可读的文字）",
        "the file is empty (no readable text)",
    ),
    "binary": (
        "不是文本文件（看起来是二进制数据）",
        "not a text file (looks like binary data)",
    ),
    "undecodable": (
        "无法识别文件的文字编码（请另存为 UTF-8 编码的文本）",
        "cannot determine the text encoding of the file (please save it as UTF-8 text)",
    ),
    "broken_docx": (
        "Word 文档已损坏或不是有效的 .docx 文件，无法打开",
        "the Word document is damaged or not a valid .docx file and cannot be opened",
    ),
    "docx_not_word": (
        "不是有效的 Word 文档（压缩包中没有 word/document.xml）",
        "not a valid Word document (the zip archive has no word/document.xml)",
    ),
    "broken_pdf": (
        "PDF 文件已损坏，无法打开",
        "the PDF file is damaged and cannot be opened",
    ),
    "pdf_truncated": (
        "PDF 文件不完整（缺少结尾，可能是上传或复制中断）",
        "the PDF file is incomplete (its end is missing; the upload or copy was probably interrupted)",
    ),
    "pdf_encrypted": (
        "PDF 文件有密码保护，无法读取；请提供未加密的版本",
        "the PDF file is password-protected; please provide an unencrypted version",
    ),
    "no_text": (
        "PDF 中没有可以读取的文字（没有文字层，文字识别也没有识别出文字）",
        "the PDF has no readable text (no text layer, and OCR recognised none)",
    ),
    "io_error": (
        "无法读取文件：{detail}",
        "cannot read the file: {detail}",
    ),
    "not_found": (
        "无法读取文件：文件不存在",
        "cannot read the file: file not found",
    ),
    "is_directory": (
        "无法读取文件：这是一个文件夹，不是文件",
        "cannot read the file: it is a directory, not a file",
    ),
    "permission_denied": (
        "无法读取文件：没有读取权限",
        "cannot read the file: permission denied",
    ),
    "read_failed": (
        "无法读取文件（{detail}）",
        "cannot read the file ({detail})",
    ),
}


COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("start", "开始使用", "Start"),
    ("help", "帮助和示例", "Help and examples"),
    ("reports", "报告列表", "List reports"),
    ("report", "报告目录：/report 编号", "Report outline: /report ID"),
    ("search", "检索：/search 问题", "Search: /search QUERY"),
    ("mentions", "哪些报告提到：/mentions 词语", "Which reports mention: /mentions TERM"),
    ("compare", "对比各报告同一部分：/compare 存在问题", "Compare a part across reports: /compare problems"),
    ("trend", "历年提及情况：/trend 词语", "A term over the years: /trend TERM"),
    ("copies", "查重：/copies 报告编号", "Copied text: /copies REPORT_ID"),
    ("digest", "今日摘要", "Today's digest"),
    ("subscribe", "订阅每日摘要", "Subscribe to the daily digest"),
    ("unsubscribe", "取消订阅", "Unsubscribe"),
    ("watch", "关注词语：/watch 词语", "Watch a term: /watch TERM"),
    ("unwatch", "取消关注：/unwatch 词语", "Stop watching: /unwatch TERM"),
    ("watches", "我关注的词语", "My watched terms"),
    ("stats", "统计", "Statistics"),
)

EXAMPLES: dict[str, tuple[str, ...]] = {
    ZH: ("哪些报告提到四下基层", "全县生产总值达到多少", "各单位存在哪些问题"),
    EN: ("which reports mention 四下基层", "全县生产总值达到多少", "各单位存在哪些问题"),
}


def language_of(code: str | None) -> str:
    """English for users whose Telegram language is English, Chinese for everyone else."""
    return EN if code and code.lower().startswith("en") else ZH


def t(key: str, lang: str, **values: Any) -> str:
    """The text `key` in `lang`, with `values` filled in (callers escape user text first)."""
    zh, en = _TEXTS[key]
    return (en if lang == EN else zh).format(**values)


def unreadable_reason(error: UnreadableReport, lang: str) -> str:
    """Why a file could not be read, in `lang` (plain text: the bot escapes it)."""
    zh, en = UNREADABLE_TEXTS[error.reason]
    return (en if lang == EN else zh).format(**error.details)


def unreadable(error: UnreadableReport, lang: str) -> str:
    """The file and why it could not be read: `汇报.pdf: PDF 文件已损坏，无法打开`."""
    return f"{error.source}: {unreadable_reason(error, lang)}"
